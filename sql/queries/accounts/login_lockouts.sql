-- Accounts locked for a client since $since: shown to the admin on the 账号 page.
select
    logged_at,
    target as username,
    detail->>'client' as client
from audit_log
where action = 'login'
    and detail->>'outcome' = 'locked_now'
    and logged_at >= $since
    and not starts_with(target, '?')
order by logged_at desc
