-- The actions the audit log holds, for the filter (pipelines/auditlog.filter_options names them).
select distinct action from audit_log order by 1
