-- A graduate's account reopened by a new activation code: its password no longer opens it.
update users set password_hash = null, must_change_password = false, updated_at = $now where user_id = $user_id
