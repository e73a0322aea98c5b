-- The stage counts of all selected graduates, in one row: what the KPI cards compare with
-- (yesterday's totals). The cheapest form of stats_by.
select
    count(*) as graduates,
    count(registration_id) as registered,
    count(*) filter (where status = 'pending_college') as pending_college,
    count(*) filter (where status = 'pending_school') as pending_school,
    count(*) filter (where status = 'returned') as returned,
    count(*) filter (where status = 'approved') as approved,
    count(*) filter (where is_confirmed) as confirmed,
    count(*) filter (where is_verified) as verified
from filtered_graduates($cohort, $college, $major, $class, $transfer_type, $stage, $date_from, $date_to)
