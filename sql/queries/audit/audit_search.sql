-- The audit log, newest first, narrowed by who ($who, part of the name), what ($action: one
-- action such as 'login' or 'demo', or a kind ending in ':' such as 'review:' or 'demo:', which
-- takes 'demo' and every 'demo:…'), on what ($target, part) and when ($date_from, $date_to
-- inclusive). `total` counts every matching record.
select
    audit_id,
    logged_at,
    actor,
    role,
    action,
    target,
    detail::varchar as detail,
    count(*) over () as total
from audit_log
where ($who is null or contains(actor, $who))
    and ($action is null or action = $action or (ends_with($action, ':') and starts_with(action || ':', $action)))
    and ($target is null or contains(coalesce(target, ''), $target))
    and ($date_from is null or logged_at >= $date_from::date)
    and ($date_to is null or logged_at < $date_to::date + interval 1 day)
order by audit_id desc
limit $limit offset $offset
