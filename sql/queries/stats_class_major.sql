-- stats_by's counts by class and by major in one pass over the selected graduates (the
-- college page ranks both).
with

counts as (
    select
        case when grouping(class_name) = 0 then 'class' else 'major' end as dimension,
        coalesce(class_name, major, '（空）') as key,
        count(*) as graduates,
        count(registration_id) as registered,
        count(*) filter (where status = 'approved') as approved,
        count(*) filter (where is_confirmed) as confirmed,
        count(*) filter (where is_verified) as verified
    from filtered_graduates($cohort, $college, $major, $class, $transfer_type, $stage, $date_from, $date_to)
    group by grouping sets ((class_name), (major))
)

select
    *,
    registered / graduates as registered_rate,
    approved / graduates as approved_rate
from counts
order by dimension, key
