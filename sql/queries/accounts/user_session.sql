-- An account as a dashboard session sees it, read again on every run. `stamp` changes when the
-- session must end: a new password (an admin's reset), disabling, a new role or colleges.
-- Never the hash itself.
select
    username,
    display_name,
    role,
    colleges,
    student_id,
    must_change_password,
    disabled,
    md5(concat_ws('|', coalesce(password_hash, ''), disabled::varchar, role,
                  coalesce(colleges::varchar, ''), coalesce(student_id, ''))) as stamp
from users
where username = $username
