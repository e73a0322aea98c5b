-- The reports issued to a college or class (newest first), with their status, for the list on
-- 核验报告: $status (a verification_report_status.state: its report_status, or 'void' for a
-- usable report whose confirmation no longer holds) and $number (part of the 核验编号) narrow it; NULL: all.
with

listed as (
    select
        reports.report_id,
        reports.report_number,
        reports.kind,
        graduates.student_id,
        graduates.name,
        graduates.class_name,
        reports.issued_at,
        reports.valid_until,
        reports.closed_at,
        reports.state as status
    from verification_report_status as reports
    join filtered_graduates($cohort, $filters)
        as graduates using (student_id)
    where ($kind is null or reports.kind = $kind)
        and ($number is null or contains(reports.report_number, upper($number)))
)

select *, count(*) over () as total
from listed
where $status is null or status = $status
order by issued_at desc, report_id desc
limit $limit offset $offset
