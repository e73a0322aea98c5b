-- The days that already have a snapshot (a day is written once).
select distinct snapshot_day from stage_snapshots where snapshot_day = any($days) order by 1
