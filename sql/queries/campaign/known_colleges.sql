-- Every college on the roster (accounts may only be scoped to these).
select college_name from colleges union select distinct college_name from graduates
