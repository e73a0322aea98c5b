-- Graduate accounts of a scope that have not been activated yet (no password), with what the
-- advisor's code sheet prints.
select
    users.user_id,
    graduates.student_id,
    graduates.name,
    graduates.college_name,
    graduates.class_name,
    graduates.advisor
from users
join graduates on graduates.student_id = users.student_id
where users.role = 'graduate'
    and users.password_hash is null
    and not users.disabled
    and ($cohort is null or graduates.cohort = $cohort)
    and ($college is null or graduates.college_name = $college)
    and ($class_name is null or graduates.class_name = $class_name)
    and ($student_id is null or graduates.student_id = $student_id)
order by graduates.college_name, graduates.class_name, graduates.student_id
