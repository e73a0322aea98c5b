-- A table, not a view: the materialised `graduate_stages_live` for one as-of day, refilled by
-- the writer at the end of every write transaction (pipelines/store.py). Recreated empty, and
-- marked invalid, whenever the views change.
create or replace table graduate_stage_cache as
select * from graduate_stages_live where false;

delete from settings where key = 'stage_cache_as_of';
