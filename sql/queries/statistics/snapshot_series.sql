-- The stored daily snapshots of one cohort, summed per day, within the acting user's colleges
-- (a graduate has no history view); $college and $transfer_type narrow them (NULL: all).
select
    snapshot_day,
    sum(columns(* exclude (snapshot_day, cohort, college_name, transfer_type, taken_at)))::bigint
from stage_snapshots
where cohort = $cohort
    and ($college is null or college_name = $college)
    and ($transfer_type is null or transfer_type = $transfer_type)
    and (getvariable('scope_colleges') is null or list_contains(getvariable('scope_colleges'), college_name))
    and getvariable('scope_student') is null
group by snapshot_day
order by snapshot_day
