-- 未确认 reports get their validity date (pipelines/reports.py checked the cap).
update verification_reports
set valid_until = $valid_until
where report_id in (select unnest($ids::bigint[])) and valid_until is null
