-- Cumulative registrations and school approvals per day, from $start to the as-of day, over
-- the graduates the filters select. An approval counts on the day the current revision passed.
with

selected as (
    select
        first_submitted_at::date as registered_on,
        approved_at::date as approved_on
    from filtered_graduates($cohort, $college, $major, $class, $transfer_type, $stage, $date_from, $date_to)
),

days as (
    select unnest(generate_series($start::date, getvariable('as_of'), interval 1 day))::date as day
),

registered as (
    select registered_on as day, count(*) as n
    from selected
    where registered_on is not null
    group by 1
),

approved as (
    select approved_on as day, count(*) as n
    from selected
    where approved_on is not null
    group by 1
),

earlier as (
    -- whatever happened before $start still counts in the totals
    select
        count(*) filter (where registered_on < $start::date) as registered,
        count(*) filter (where approved_on < $start::date) as approved
    from selected
),

final as (
    select
        days.day,
        coalesce(registered.n, 0) as registered_that_day,
        coalesce(approved.n, 0) as approved_that_day,
        (select registered from earlier) + sum(coalesce(registered.n, 0)) over (order by days.day) as registered,
        (select approved from earlier) + sum(coalesce(approved.n, 0)) over (order by days.day) as approved
    from days
    left join registered using (day)
    left join approved using (day)
)

select * from final
order by day
