-- Codes not yet used of the accounts about to get new ones stop working.
update activation_codes
set voided_at = $now
where user_id in (select user_id from incoming)
    and used_at is null
    and voided_at is null
