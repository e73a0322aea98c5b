-- The pace of every stage per college ($by = 'college') or class ($by = 'class') over the
-- selected graduates: how many have reached each stage (the counts of counted_graduates), and
-- how many of them reached it in the last $recent_days days (<stage>_recent).
-- pipelines/progress.py projects these to the deadline. One page, least registered first.
with

recent as (
    select
        *,
        getvariable('as_of_end') - to_days($recent_days) as since
    from counted_graduates($cohort, $filters)
),

grouped as (
    select
        case $by when 'class' then class_name else college_name end as key,
        any_value(college_name) as college_name,
        sum(graduates)::bigint as graduates,
        sum(registered)::bigint as registered,
        count(*) filter (where registered = 1 and first_submitted_at >= since) as registered_recent,
        sum(college_approved)::bigint as college_approved,
        count(*) filter (where college_approved = 1 and college_approved_at >= since) as college_approved_recent,
        sum(approved)::bigint as approved,
        count(*) filter (where approved = 1 and approved_at >= since) as approved_recent,
        sum(confirmed)::bigint as confirmed,
        count(*) filter (where confirmed = 1 and confirmed_at >= since) as confirmed_recent,
        sum(verified)::bigint as verified,
        count(*) filter (where verified = 1 and verified_at >= since) as verified_recent
    from recent
    group by 1
)

select
    *,
    rate(registered, graduates) as registered_rate,
    count(*) over () as total
from grouped
order by registered_rate, key
limit $limit offset $offset
