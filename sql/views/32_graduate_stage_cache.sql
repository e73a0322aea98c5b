-- A table, not a view: the materialised `graduate_stages_live` for the store's day and the day
-- before (the KPI cards compare with yesterday), refilled after every write transaction
-- (pipelines/store.py). Recreated empty, and marked invalid, whenever the views change.
create or replace table graduate_stage_cache as
select null::date as cache_day, * from graduate_stages_live where false;

delete from settings where key = 'stage_cache_as_of';
