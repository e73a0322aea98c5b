-- What every page and query reads: the materialised copy when the store set `use_stage_cache`
-- for this connection (the copy holds its as-of day), the live view otherwise. DuckDB folds the
-- variable, so only one branch runs.
create or replace view graduate_stages as
select * exclude (cache_day)
from graduate_stage_cache
where getvariable('use_stage_cache')
    and cache_day = getvariable('as_of')
    and in_scope(college_name, student_id)

union all by name

select *
from graduate_stages_live
where not coalesce(getvariable('use_stage_cache'), false)
