-- The roster rows the acting user may see. Scope (the colleges the user may see) comes from
-- getvariable('scope_colleges'), set by the store on every connection: NULL means all.
-- Every view and query that shows graduates starts here.
create or replace view scoped_graduates as
select *
from graduates
where getvariable('scope_colleges') is null
    or list_contains(getvariable('scope_colleges'), college_name)
