-- One report by its 核验编号, within the acting user's scope.
select verification_reports.*
from verification_reports
join scoped_graduates using (student_id)
where report_number = $report_number
    and issued_at < getvariable('as_of_end')
