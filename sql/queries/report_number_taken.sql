-- Whether a 核验编号 was ever used (numbers are never reused, closed reports included).
select 1 from verification_reports where report_number = $report_number
