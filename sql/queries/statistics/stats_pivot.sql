-- Stage counts and 毕业去向落实 counts for one cohort by one or two dimensions ($rows, $columns:
-- see sql/views/58_stats_dimensions.sql; 'none' for no breakdown), over the graduates the
-- filters select, with 已落实 (placed) and every rate. The stage counts are defined once, in
-- counted_graduates.
with

graduates as (
    select *, destination_category(destination_code) as category
    from counted_graduates($cohort, $filters)
),

keyed as (
    select
        stats_dimension($rows, college_name, major, class_name, transfer_type, origin_province,
                        education_level, gender, category) as row_key,
        stats_dimension($columns, college_name, major, class_name, transfer_type, origin_province,
                        education_level, gender, category) as column_key,
        *
    from graduates
),

counts as (
    select
        row_key,
        column_key,
        -- every stage count of counted_graduates, summed under its own name
        sum(columns('^(graduates|registered|pending_college|pending_school|returned|approved|confirmed|verified)$'))::bigint,
        count(*) filter (where category = 'employed') as employed,
        count(*) filter (where category = 'entrepreneur') as entrepreneur,
        count(*) filter (where category = 'freelance') as freelance,
        count(*) filter (where category = 'further_study') as further_study,
        count(*) filter (where category = 'not_placed') as not_placed,
        count(*) filter (where category = 'no_destination') as no_destination
    from keyed
    group by all
),

placed as (
    -- 毕业去向已落实: the placed categories of destination_category (03_destination_codes.sql)
    select *, employed + entrepreneur + freelance + further_study as placed
    from counts
)

select
    *,
    rate(registered, graduates) as registered_rate,
    rate(approved, graduates) as approved_rate,
    rate(confirmed, graduates) as confirmed_rate,
    rate(verified, graduates) as verified_rate,
    rate(placed, graduates) as placed_rate
from placed
order by row_key, column_key
