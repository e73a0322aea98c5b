-- A code works once.
update activation_codes set used_at = $now where activation_id = $activation_id
