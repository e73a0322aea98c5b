-- Every (cohort, college, major, class) on the roster, for the filter bar: materialised with
-- the stages after each write (a distinct over millions of graduates costs a quarter second),
-- computed live when the materialised copy is stale.
create or replace table roster_option_cache as
select distinct cohort, college_name, major, class_name from graduates where false;

create or replace view roster_options as
select * from roster_option_cache
where getvariable('use_stage_cache')

union all

select distinct cohort, college_name, major, class_name from graduates
where not coalesce(getvariable('use_stage_cache'), false)
