-- Stage counts for one cohort, grouped by the key the caller names ($by).
with

keyed as (
    select
        case $by
            when 'college' then college_name
            when 'major' then major
            when 'class' then class_name
            when 'transfer_type' then coalesce(ref_transfer_types.label, '未登记')
            when 'origin_province' then coalesce(origin_province, '未知')
            else '全校'
        end as key,
        graduate_stages.*
    from graduate_stages
    left join ref_transfer_types on ref_transfer_types.key = graduate_stages.transfer_type
    where cohort = $cohort
),

final as (
    select
        coalesce(key, '（空）') as key,
        count(*) as graduates,
        count(registration_id) as registered,
        count(*) filter (where status = 'pending_college') as pending_college,
        count(*) filter (where status = 'pending_school') as pending_school,
        count(*) filter (where status = 'returned') as returned,
        count(*) filter (where status = 'approved') as approved,
        count(*) filter (where is_confirmed) as confirmed,
        count(*) filter (where is_verified) as verified
    from keyed
    group by all
)

select * from final
order by key
