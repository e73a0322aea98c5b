-- Every account, for the admin page and `dangan user list` (never the hashes).
select user_id, username, display_name, role, colleges, student_id, must_change_password,
       oidc_subject is not null as has_oidc, failed_logins, locked_until, disabled, created_at, updated_at
from users
order by role, username
