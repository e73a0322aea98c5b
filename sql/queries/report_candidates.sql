-- The graduates of a college or class a batch of reports is for, in class and advisor order,
-- and whether each can have a report of $kind (confirmed; for hukou, hukou at school and
-- registered).
select
    student_id,
    name,
    class_name,
    advisor,
    is_confirmed,
    is_verified,
    is_confirmed and ($kind = 'archive' or (is_hukou_at_school is not false and hukou_id is not null)) as can_issue
from filtered_graduates($cohort, $college, $major, $class, $transfer_type, $stage, $date_from, $date_to)
order by class_name, advisor, student_id
