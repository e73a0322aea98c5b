-- Registration pace per college ($by = 'college') or class ($by = 'class') over the selected
-- graduates: how many are registered, and how many registered in the last $recent_days days.
-- pipelines/progress.py projects these to the deadline. One page, least registered first.
with

grouped as (
    select
        case $by when 'class' then class_name else college_name end as key,
        any_value(college_name) as college_name,
        count(*) as graduates,
        count(registration_id) as registered,
        count(*) filter (
            where first_submitted_at >= getvariable('as_of_end') - to_days($recent_days)
        ) as recent
    from filtered_graduates($cohort, $college, $major, $class, $transfer_type, $stage, $date_from, $date_to)
    group by 1
)

select
    *,
    registered / graduates as registered_rate,
    count(*) over () as total
from grouped
order by registered_rate, key
limit $limit offset $offset
