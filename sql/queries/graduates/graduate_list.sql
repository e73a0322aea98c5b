-- One page of the selected graduates with their stage, for drill-down tables. $search matches
-- 学号 or 姓名 anywhere (NULL: everyone).
with

selected as (
    select *
    from filtered_graduates($cohort, $filters)
    where $search is null
        or contains(student_id, $search)
        or contains(name, $search)
),

final as (
    select
        student_id,
        name,
        college_name,
        major,
        class_name,
        advisor,
        stage,
        transfer_type,
        submitted_at,
        count(*) over () as total
    from selected
    order by college_name, class_name, student_id
    limit $limit offset $offset
)

select * from final
