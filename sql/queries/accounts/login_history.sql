-- What the audit log says about a login attempt's account and client since $since (the lock
-- window; pipelines/accounts.py): the account's wrong passwords from this client since its last
-- success from it (or a password reset), and the client's failures and accounts tried.
with

attempts as (
    select
        logged_at,
        target,
        detail->>'client' as client,
        detail->>'outcome' as outcome
    from audit_log
    where action = 'login'
        and logged_at >= $since
),

pair_cleared as (
    select max(logged_at) as cleared_at
    from (
        select logged_at from attempts where target = $target and client = $client and outcome = 'ok'
        union all
        select logged_at from audit_log
        where action in ('user:reset_password', 'user:activate') and target = $target and logged_at >= $since
    )
),

final as (
    select
        (select count(*) from attempts, pair_cleared
         where target = $target and client = $client and outcome in ('wrong_password', 'locked_now')
             and logged_at > coalesce(cleared_at, $since::timestamp - interval 1 day)) as pair_failures,
        (select count(*) > 0 from attempts where target = $target and client = $client) as pair_seen,
        (select count(*) from attempts where client = $client and outcome <> 'ok') as client_failures,
        (select count(distinct target) from attempts where client = $client) as client_accounts
)

select * from final
