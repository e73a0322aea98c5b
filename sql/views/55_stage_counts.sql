-- Stage counts, summed: what 总览's totals, breakdowns and daily curve are made of.
--
-- `stage_counts` and `daily_counts` answer for the graduates the filters select, grouped by
-- the keys a page can filter or break down on. For the store's day and the day before they
-- read two small tables refilled with the materialised stages after every write
-- (pipelines/store.py), so 总览 costs a few thousand summed rows even on 12 million
-- graduates. They count live whenever those tables cannot answer: a stale copy, another day,
-- or a filter the tables do not keep (major, class, date range). The store sets
-- `use_count_cache` for the connection; the parameters are folded, so one branch runs.

create or replace table stage_count_cache (
    cache_day date,
    cohort integer,
    college_name varchar,
    transfer_type varchar,
    origin_province varchar,
    stage varchar,
    graduates bigint,
    registered bigint,
    pending_college bigint,
    pending_school bigint,
    returned bigint,
    approved bigint,
    confirmed bigint,
    verified bigint,
    college_approved bigint
);

create or replace table daily_count_cache (
    cache_day date,
    cohort integer,
    college_name varchar,
    transfer_type varchar,
    stage varchar,
    day date,
    registered bigint,
    approved bigint
);

-- `f`: the filters (50_filtered_graduates.sql). The tables keep cohort, college, transfer type
-- and stage; a filter set on anything else (major, class, dates, or a filter added later) is
-- counted live. The fields set are the JSON keys whose value is not null (JSON escapes every
-- quote inside a value, so a value cannot pose as a key); NULL filters set none.
create or replace macro count_cache_answers(f) as
    coalesce(getvariable('use_count_cache'), false)
    and getvariable('scope_student') is null  -- the sums hold no graduate: count a graduate's own row live
    and coalesce(
        list_has_all(['college', 'transfer_type', 'stage'], regexp_extract_all(to_json(f), '"(\w+)":[^n]', 1)), true
    );

create or replace macro cached_counts_match(cohort_, f) as
    cache_day = getvariable('as_of')
    and (cohort_ is null or cohort = cohort_)
    and (f['college'] is null or college_name = f['college'])
    and (f['transfer_type'] is null or transfer_type = f['transfer_type'])
    and (f['stage'] is null or stage = f['stage'])
    and in_scope(college_name, null);  -- the sums hold no graduate

-- Each selected graduate with the stage counts they add to, as 0/1 (never NULL): the one definition of
-- what each count means. `stage_count_names` lists them, in this order, for the sums
-- (stats_by, stage_counts and stats_breakdowns write `sum(columns(stage_count_names()))`).
create or replace macro stage_count_names() as [
    'graduates', 'registered', 'pending_college', 'pending_school', 'returned', 'approved', 'confirmed',
    'verified', 'college_approved'
];

create or replace macro counted_graduates(cohort_, f) as table
select
    *,
    1 as graduates,
    (registration_id is not null)::integer as registered,
    coalesce(status = 'pending_college', false)::integer as pending_college,
    coalesce(status = 'pending_school', false)::integer as pending_school,
    coalesce(status = 'returned', false)::integer as returned,
    coalesce(status = 'approved', false)::integer as approved,
    is_confirmed::integer as confirmed,
    is_verified::integer as verified,
    coalesce(status in ('pending_school', 'approved'), false)::integer as college_approved
from filtered_graduates(cohort_, f);

create or replace macro stage_counts(cohort_, f) as table
select * exclude (cache_day)
from stage_count_cache
where count_cache_answers(f)
    and cached_counts_match(cohort_, f)

union all by name

select
    cohort,
    college_name,
    transfer_type,
    origin_province,
    stage,
    sum(columns(stage_count_names()))::bigint
from counted_graduates(cohort_, f)
where not count_cache_answers(f)
group by cohort, college_name, transfer_type, origin_province, stage;

-- Per day: how many registered for the first time, and how many current revisions passed
-- school review.
create or replace macro daily_counts(cohort_, f) as table
with

live as (
    select *
    from filtered_graduates(cohort_, f)
    where not count_cache_answers(f)
),

events as (
    select cohort, college_name, transfer_type, stage, first_submitted_at::date as day, 1 as registered, 0 as approved
    from live
    where first_submitted_at is not null
    union all
    select cohort, college_name, transfer_type, stage, approved_at::date as day, 0 as registered, 1 as approved
    from live
    where approved_at is not null
)

select * exclude (cache_day)
from daily_count_cache
where count_cache_answers(f)
    and cached_counts_match(cohort_, f)

union all by name

select
    cohort,
    college_name,
    transfer_type,
    stage,
    day,
    sum(registered)::bigint as registered,
    sum(approved)::bigint as approved
from events
group by all;
