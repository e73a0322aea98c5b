-- Every cohort's snapshots aligned by days before its registration deadline, within the acting
-- user's colleges: registered, approved and confirmed shares of the cohort's graduates.
select
    snapshots.cohort,
    date_diff('day', snapshots.snapshot_day, campaigns.registration_deadline) as days_left,
    snapshots.snapshot_day,
    sum(graduates)::bigint as graduates,
    rate(sum(registered), sum(graduates)) as registered_rate,
    rate(sum(approved), sum(graduates)) as approved_rate,
    rate(sum(confirmed), sum(graduates)) as confirmed_rate,
    rate(sum(placed), sum(graduates)) as placed_rate
from stage_snapshots as snapshots
join campaigns using (cohort)
where in_scope(college_name, null)  -- a graduate has no history view
group by all
order by snapshots.cohort, days_left desc
