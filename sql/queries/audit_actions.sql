-- The kinds of action the audit log holds (the part before the first ':'), for the filter.
select distinct split_part(action, ':', 1) as action from audit_log order by 1
