-- The counts of stats_by for several groupings in one pass over the selected graduates:
-- the whole selection ('school'), and by college, transfer type and origin province.
-- 总览 needs all four; one scan, grouping raw keys and labelling the few result rows after,
-- keeps it under a second on 12 million graduates.
with

selected as (
    select *
    from filtered_graduates($cohort, $college, $major, $class, $transfer_type, $stage, $date_from, $date_to)
),

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
        count(*) as graduates,
        count(registration_id) as registered,
        count(*) filter (where status = 'pending_college') as pending_college,
        count(*) filter (where status = 'pending_school') as pending_school,
        count(*) filter (where status = 'returned') as returned,
        count(*) filter (where status = 'approved') as approved,
        count(*) filter (where is_confirmed) as confirmed,
        count(*) filter (where is_verified) as verified,
        count(*) filter (where status in ('pending_school', 'approved')) as college_approved
    from selected
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
        registered / graduates as registered_rate,
        approved / graduates as approved_rate,
        confirmed / graduates as confirmed_rate,
        verified / graduates as verified_rate
    from counts
    left join ref_transfer_types on counts.dimension = 'transfer_type' and ref_transfer_types.key = counts.transfer_type
)

select * from final
order by dimension, key
