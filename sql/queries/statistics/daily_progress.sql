-- Cumulative registrations and school approvals per day, from $start to the as-of day, over
-- the graduates the filters select. An approval counts on the day the current revision passed.
with

events as (
    select day, sum(registered)::bigint as registered, sum(approved)::bigint as approved
    from daily_counts($cohort, $filters)
    group by day
),

days as (
    select unnest(generate_series($start::date, getvariable('as_of'), interval 1 day))::date as day
),

earlier as (
    -- whatever happened before $start still counts in the totals
    select
        coalesce(sum(registered) filter (where day < $start::date), 0)::bigint as registered,
        coalesce(sum(approved) filter (where day < $start::date), 0)::bigint as approved
    from events
),

final as (
    select
        days.day,
        coalesce(events.registered, 0) as registered_that_day,
        coalesce(events.approved, 0) as approved_that_day,
        ((select registered from earlier) + sum(coalesce(events.registered, 0)) over (order by days.day))::bigint
            as registered,
        ((select approved from earlier) + sum(coalesce(events.approved, 0)) over (order by days.day))::bigint
            as approved
    from days
    left join events using (day)
)

select * from final
order by day
