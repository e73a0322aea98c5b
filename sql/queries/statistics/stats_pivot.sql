-- Stage counts and 毕业去向落实 counts for one cohort by one or two dimensions ($rows, $columns:
-- see sql/views/58_stats_dimensions.sql; 'none' for no breakdown), over the graduates the
-- filters select. The stage counts are defined once, in counted_graduates.
with

graduates as (
    select *, destination_category(destination_code) as category
    from counted_graduates($cohort, $college, $major, $class, $transfer_type, $stage, $date_from, $date_to)
),

keyed as (
    select
        stats_dimension($rows, college_name, major, class_name, transfer_type, origin_province,
                        education_level, gender, category) as row_key,
        stats_dimension($columns, college_name, major, class_name, transfer_type, origin_province,
                        education_level, gender, category) as column_key,
        *
    from graduates
)

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
order by all
