-- For each 学号 of an initial-password file (`incoming`): the roster graduate's name (null when
-- the 学号 is not on the roster), that graduate's own account (role graduate, by student_id;
-- the first if there were several) and the role of any account already named after the 学号.
select incoming.student_id, graduates.name,
       own.user_id as own_user_id, own.must_change_password as own_must_change,
       taken.role as taken_role
from incoming
left join graduates on graduates.student_id = incoming.student_id
left join (
    select student_id, min(user_id) as user_id from users where role = 'graduate' group by student_id
) as first_own on first_own.student_id = incoming.student_id
left join users as own on own.user_id = first_own.user_id
left join users as taken on taken.username = incoming.student_id
