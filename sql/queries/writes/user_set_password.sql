-- A new password hash (a change by the user, or a reset by an admin).
update users
set password_hash = $password_hash, must_change_password = $must_change, failed_logins = 0,
    locked_until = null, updated_at = $now
where user_id = $user_id
