-- Record a login attempt's outcome on the account: the failure count and any lock.
update users
set failed_logins = $failed_logins, locked_until = $locked_until, updated_at = $now
where user_id = $user_id
