-- Stage counts and rates for one cohort, grouped by the key the caller names ($by), over the
-- graduates the filters select.
with

keyed as (
    select
        case $by
            when 'college' then college_name
            when 'major' then major
            when 'class' then class_name
            when 'advisor' then advisor
            when 'transfer_type' then coalesce(ref_transfer_types.label, '未登记')
            when 'origin_province' then coalesce(origin_province, '未知')
            else '全校'
        end as key,
        graduates.*
    from filtered_graduates($cohort, $college, $major, $class, $transfer_type, $stage, $date_from, $date_to) as graduates
    left join ref_transfer_types on ref_transfer_types.key = graduates.transfer_type
),

counts as (
    select
        coalesce(key, '（空）') as key,
        count(*) as graduates,
        count(registration_id) as registered,
        count(*) filter (where status = 'pending_college') as pending_college,
        count(*) filter (where status = 'pending_school') as pending_school,
        count(*) filter (where status = 'returned') as returned,
        count(*) filter (where status = 'approved') as approved,
        count(*) filter (where is_confirmed) as confirmed,
        count(*) filter (where is_verified) as verified,
        count(*) filter (where status in ('pending_school', 'approved')) as college_approved
    from keyed
    group by all
),

final as (
    select
        *,
        registered / graduates as registered_rate,
        approved / graduates as approved_rate,
        confirmed / graduates as confirmed_rate,
        verified / graduates as verified_rate
    from counts
)

select * from final
order by key
