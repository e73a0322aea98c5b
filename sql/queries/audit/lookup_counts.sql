-- The public look-ups of the window (pipelines/lookups.py): how many by this client, for this
-- number, for this name (hash), and by everyone; and the oldest of them, for "try again in".
with

recent as (
    select logged_at, target, detail->>'client' as client, detail->>'name' as name_key
    from audit_log
    where action = 'verify:lookup'
        and logged_at >= $since
)

select
    count(*) filter (where client = $client) as by_client,
    count(*) filter (where target = $number) as by_number,
    count(*) filter (where name_key = $name_key) as by_name,
    count(*) as by_everyone,
    min(logged_at) as oldest
from recent
