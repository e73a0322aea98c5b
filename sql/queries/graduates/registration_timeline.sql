-- Every revision and every review of one graduate's registration, oldest first. Reads the
-- tables for this one graduate (not the registration_status view, which would summarise every
-- registration's reviews first: 250 ms at a million graduates against 20).
with

revisions as (
    select
        submitted_at as happened_at,
        'submitted' as event,
        revision_no,
        registration_id,
        null as level,
        null as decision,
        note as reason,
        source as actor,
        flags,
        null::bigint as review_id
    from registrations
    where student_id = $student_id
        and submitted_at < getvariable('as_of_end')
),

decisions as (
    select
        reviews.decided_at as happened_at,
        'reviewed' as event,
        revisions.revision_no,
        reviews.registration_id,
        reviews.level,
        reviews.decision,
        reviews.reason,
        reviews.reviewer as actor,
        null as flags,
        reviews.review_id
    from reviews
    join revisions using (registration_id)
    where reviews.decided_at < getvariable('as_of_end')
),

-- the archive's way out (档案转递): bags, batches, sending, receipt, return, waits
archive as (
    select marked_at as happened_at, 'archive' as event, case when complete then 'bagged' else 'unbagged' end as level,
        array_to_string(items, '、') as reason, marked_by as actor
    from archive_bags where student_id = $student_id and marked_at < getvariable('as_of_end')
    union all
    select added_at, 'archive', 'batched', '第 ' || batch_no || ' 批', null
    from batch_members where student_id = $student_id and added_at < getvariable('as_of_end')
    union all
    select removed_at, 'archive', 'taken_out', removed_reason, null
    from batch_members where student_id = $student_id and removed_at < getvariable('as_of_end')
    union all
    select recorded_at, 'archive', 'sent_' || channel, waybill, recorded_by
    from waybills where student_id = $student_id and recorded_at < getvariable('as_of_end')
    union all
    select happened_at, 'archive', kind,
        concat_ws('；', unit_name, reason, case when until is not null then '至 ' || strftime(until, '%Y-%m-%d') end),
        actor
    from archive_events where student_id = $student_id and happened_at < getvariable('as_of_end')
),

scoped as (
    -- nothing for a graduate outside the acting user's scope
    select student_id from scoped_graduates where student_id = $student_id
)

-- actor_name: a reviewer's display name, when the reviewer is an account
select events.*, users.display_name as actor_name
from (select * from revisions union all by name select * from decisions union all by name select * from archive) as events
left join users on events.event = 'reviewed' and users.username = events.actor
where exists (select 1 from scoped)
order by events.happened_at, events.event desc, events.review_id
