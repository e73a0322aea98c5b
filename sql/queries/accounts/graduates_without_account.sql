-- Roster graduates (of a cohort, optionally one college or class) who have no graduate account yet.
select graduates.student_id, graduates.name
from graduates
left join users on users.student_id = graduates.student_id and users.role = 'graduate'
where users.user_id is null
    and ($cohort is null or graduates.cohort = $cohort)
    and ($college is null or graduates.college_name = $college)
    and ($class_name is null or graduates.class_name = $class_name)
    and ($student_id is null or graduates.student_id = $student_id)
    and not exists (select 1 from users as taken where taken.username = graduates.student_id)
order by graduates.student_id
