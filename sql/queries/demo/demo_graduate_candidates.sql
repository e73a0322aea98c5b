-- Per stage in one college, the first graduate (by 学号) to give a demo account: preferably one
-- whose not-yet-registered record can still fill the hukou form.
select
    stage,
    coalesce(
        min(student_id) filter (where stage <> 'not_registered' or is_hukou_at_school),
        min(student_id)
    ) as student_id
from graduate_stages
where college_name = $college
group by stage
