-- The review queue of one level: revisions waiting for it (待院审核 for 'college', 待校审核 for
-- 'school'), within the acting user's scope, oldest first. $flag: a check code, '__none__'
-- (no flags) or NULL (any); $min_days: waiting at least that many days.
with

waiting as (
    select
        registration_id,
        student_id,
        name,
        college_name,
        class_name,
        major,
        transfer_type,
        revision_no,
        flags,
        submitted_at,
        case $level when 'school' then college_approved_at else submitted_at end as waiting_since
    from graduate_stages
    where cohort = $cohort
        and status = case $level when 'school' then 'pending_school' else 'pending_college' end
        and ($college is null or college_name = $college)
        and ($class is null or class_name = $class)
        and ($transfer_type is null or transfer_type = $transfer_type)
        and ($flag is null
            or ($flag = '__none__' and len(flags) = 0)
            or list_contains(flags, $flag))
),

final as (
    select
        *,
        date_diff('day', waiting_since::date, getvariable('as_of')) as days_waiting
    from waiting
    where $min_days is null
        or waiting_since < getvariable('as_of_end') - to_days($min_days::integer)
)

select
    final.*,
    ref_transfer_types.label as transfer_type_label,
    count(*) over () as total
from final
left join ref_transfer_types on ref_transfer_types.key = final.transfer_type
order by waiting_since, registration_id
limit $limit offset $offset
