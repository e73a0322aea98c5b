-- The counts of stats_by for several groupings at once, over the selected graduates: the whole
-- selection ('school'), and by college, transfer type and origin province. 总览 needs all
-- four. They are sums over `stage_counts`, which is a few thousand materialised rows for the
-- store's day and the day before unless a filter needs a live count.
with

counts as (
    select
        case
            when grouping(college_name) = 0 then 'college'
            when grouping(transfer_type) = 0 then 'transfer_type'
            when grouping(origin_province) = 0 then 'origin_province'
            else 'school'
        end as dimension,
        college_name,
        transfer_type,
        origin_province,
        coalesce(sum(columns(stage_count_names())), 0)::bigint
    from stage_counts($cohort, $filters)
    group by grouping sets ((), (college_name), (transfer_type), (origin_province))
),

final as (
    select
        dimension,
        case dimension
            when 'college' then college_name
            when 'transfer_type' then coalesce(ref_transfer_types.label, '未登记')
            when 'origin_province' then coalesce(origin_province, '未知')
            else '全校'
        end as key,
        * exclude (dimension, college_name, transfer_type, origin_province, label, key, needs_proof, sort_order),
        rate(registered, graduates) as registered_rate,
        rate(approved, graduates) as approved_rate,
        rate(confirmed, graduates) as confirmed_rate,
        rate(verified, graduates) as verified_rate
    from counts
    left join ref_transfer_types on counts.dimension = 'transfer_type' and ref_transfer_types.key = counts.transfer_type
)

select * from final
order by dimension, key
