-- A 未确认 report gets its validity date (pipelines/reports.py checked the cap).
update verification_reports
set valid_until = $valid_until
where report_id = $report_id and valid_until is null
