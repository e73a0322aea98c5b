-- The archives that may be bagged (approved, confirmed, not sent) in a college or class, with their
-- bag, report and status: the 装袋 tab's list (it shows a page of it at a time).
select student_id, name, class_name, is_bagged, is_verified, dispatch_status
from archive_status
where cohort = $cohort
    and is_ready
    and not is_sent
    and ($college is null or college_name = $college)
    and ($class is null or class_name = $class)
