-- Every revision and every review of one graduate's registration, oldest first.
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
    from registration_status
    where student_id = $student_id
),

decisions as (
    select
        reviews.decided_at as happened_at,
        'reviewed' as event,
        registration_status.revision_no,
        reviews.registration_id,
        reviews.level,
        reviews.decision,
        reviews.reason,
        reviews.reviewer as actor,
        null as flags,
        reviews.review_id
    from reviews
    join registration_status using (registration_id)
    where registration_status.student_id = $student_id
        and reviews.decided_at < getvariable('as_of_end')
),

scoped as (
    -- nothing for a graduate outside the acting user's scope
    select student_id from scoped_graduates where student_id = $student_id
)

select *
from (select * from revisions union all by name select * from decisions)
where exists (select 1 from scoped)
order by happened_at, event desc, review_id
