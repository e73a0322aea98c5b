-- 未确认 reports get their validity date (pipelines/reports.py checked the cap).
update verification_reports
set valid_until = $valid_until
where list_contains($ids::bigint[], report_id) and valid_until is null
