-- The graduates of a college or class a batch of reports is for, in class and advisor order:
-- whether each can have a report of $kind (confirmed; for hukou, hukou at school and
-- registered), and whether they already have one that a batch returns instead of issuing a new
-- one (on the current confirmation, with the statuses report_in_force.sql counts: not closed,
-- not expired; `undated` when it has no validity date yet and the batch will set it).
with

usable as (
    select student_id, confirmation_id, bool_or(report_status = 'unset') and not bool_or(report_status = 'active') as undated
    from verification_report_status
    where kind = $kind and report_status in ('unset', 'active')
    group by student_id, confirmation_id
)

select
    graduates.student_id,
    graduates.name,
    graduates.class_name,
    graduates.advisor,
    graduates.is_confirmed,
    graduates.is_verified,
    graduates.is_confirmed and ($kind = 'archive' or (graduates.is_hukou_at_school is not false and graduates.hukou_id is not null))
        as can_issue,
    graduates.is_confirmed and usable.student_id is not null as has_report,
    coalesce(graduates.is_confirmed and usable.undated, false) as undated
from filtered_graduates($cohort, $filters) as graduates
left join usable on usable.student_id = graduates.student_id and usable.confirmation_id = graduates.confirmation_id
order by graduates.class_name, graduates.advisor, graduates.student_id
