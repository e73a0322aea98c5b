-- An account's codes that may still be used: not used, not replaced, not expired.
select activation_id, code_hash, salt
from activation_codes
where user_id = $user_id
    and used_at is null
    and voided_at is null
    and expires_at > $now
