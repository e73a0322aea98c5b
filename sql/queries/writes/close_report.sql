-- Close a report: it then verifies as 已关闭.
update verification_reports
set closed_at = $closed_at
where report_id = $report_id and closed_at is null
