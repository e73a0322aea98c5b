-- Initial passwords from a file (accounts.initial_passwords): each account its own hash, to be
-- changed at the next login. Never an account whose owner has already chosen a password.
update users
set password_hash = incoming.password_hash, must_change_password = true, failed_logins = 0,
    locked_until = null, updated_at = $now
from incoming
where users.user_id = incoming.user_id and users.must_change_password
