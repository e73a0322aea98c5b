-- Stage counts and rates for one cohort, grouped by the key the caller names ($by), over the
-- graduates the filters select. Grouping on the raw key and labelling the few result rows
-- afterwards keeps `by = 'school'` (the KPI totals) as cheap as a plain count.
with

keyed as (
    select
        case $by
            when 'college' then college_name
            when 'major' then major
            when 'class' then class_name
            when 'advisor' then advisor
            when 'transfer_type' then transfer_type
            when 'origin_province' then origin_province
        end as raw_key,
        graduates.*
    from counted_graduates($cohort, $filters) as graduates
),

counts as (
    -- the counts are defined once, in counted_graduates (sql/views/55_stage_counts.sql)
    select
        raw_key,
        sum(columns(stage_count_names()))::bigint
    from keyed
    group by raw_key
),

final as (
    select
        case $by
            when 'transfer_type' then coalesce(ref_transfer_types.label, '未登记')
            when 'origin_province' then coalesce(counts.raw_key, '未知')
            when 'school' then '全校'
            else coalesce(counts.raw_key, '（空）')
        end as key,
        counts.* exclude (raw_key),
        rate(registered, graduates) as registered_rate,
        rate(approved, graduates) as approved_rate,
        rate(confirmed, graduates) as confirmed_rate,
        rate(verified, graduates) as verified_rate
    from counts
    left join ref_transfer_types on $by = 'transfer_type' and ref_transfer_types.key = counts.raw_key
)

select * from final
order by key
