-- Which of these 核验编号 were ever used (numbers are never reused, closed reports included).
select report_number from verification_reports where list_contains($numbers::varchar[], report_number)
