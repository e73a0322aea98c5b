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

scoped as (
    -- nothing for a graduate outside the acting user's scope
    select student_id from scoped_graduates where student_id = $student_id
)

-- actor_name: a reviewer's display name, when the reviewer is an account
select events.*, users.display_name as actor_name
from (select * from revisions union all by name select * from decisions) as events
left join users on events.event = 'reviewed' and users.username = events.actor
where exists (select 1 from scoped)
order by events.happened_at, events.event desc, events.review_id
