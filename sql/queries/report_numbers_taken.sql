-- Which of these 核验编号 were ever used (numbers are never reused, closed reports included).
select report_number from verification_reports where report_number in (select unnest($numbers::varchar[]))
