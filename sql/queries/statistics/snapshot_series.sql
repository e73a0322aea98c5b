-- The stored daily snapshots of one cohort, summed per day, within the acting user's colleges
-- (a graduate has no history view); $college and $transfer_type narrow them (NULL: all).
select
    snapshot_day,
    sum(columns(* exclude (snapshot_day, cohort, college_name, transfer_type, taken_at)))::bigint
from stage_snapshots
where cohort = $cohort
    and ($college is null or college_name = $college)
    and ($transfer_type is null or transfer_type = $transfer_type)
    and in_scope(college_name, null)  -- a graduate has no history view
group by snapshot_day
order by snapshot_day
