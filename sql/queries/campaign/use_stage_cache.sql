-- Run by the store on a reading connection whose day the materialised stages hold: a
-- temporary view that shadows main.graduate_stages, so queries plan against the small cache
-- alone (the union view costs DuckDB as much to plan as to run on small stores).
create or replace temp view graduate_stages as
select * exclude (cache_day)
from main.graduate_stage_cache
where cache_day = getvariable('as_of')
    and in_scope(college_name, student_id)
    and among_students(student_id)
