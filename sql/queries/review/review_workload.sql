-- Pending reviews by level and college, within the acting user's scope: how many, the median
-- wait in days, and how many have waited longer than $long_days days. A NULL college row is the
-- level's total.
with

pending as (
    select
        case status when 'pending_school' then 'school' else 'college' end as level,
        college_name,
        case status when 'pending_school' then college_approved_at else submitted_at end as waiting_since
    from graduate_stages
    where cohort = $cohort
        and status in ('pending_college', 'pending_school')
)

select
    level,
    college_name,
    count(*) as pending,
    median(date_diff('hour', waiting_since, getvariable('as_of_end')) / 24.0) as median_days,
    count(*) filter (where waiting_since < getvariable('as_of_end') - to_days($long_days::integer)) as waiting_long
from pending
group by grouping sets ((level), (level, college_name))
order by level, college_name nulls first
