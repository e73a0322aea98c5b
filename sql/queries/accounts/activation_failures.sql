-- Failed activations of the lock window: for this graduate from this client, and by this client.
with

attempts as (
    select target, detail->>'client' as client, detail->>'outcome' as outcome
    from audit_log
    where action = 'user:activate'
        and logged_at >= $since
        and detail->>'outcome' <> 'ok'
)

select
    count(*) filter (where target = $target and client = $client) as pair_failures,
    count(*) filter (where client = $client) as client_failures
from attempts
