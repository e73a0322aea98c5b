-- What a review decision must know about each named revision, within the acting user's scope
-- (a revision of another college's graduate is simply absent): its status, its flags, the
-- graduate's current revision, and the latest decision already made on it.
with

last_decisions as (
    select
        registration_id,
        -- review ids grow with every decision; two decisions can share a second
        arg_max(reviewer, review_id) as last_reviewer,
        arg_max(level, review_id) as last_level,
        arg_max(decision, review_id) as last_decision,
        arg_max(decided_at, review_id) as last_decided_at
    from reviews
    where list_contains($ids::bigint[], registration_id)
        and decided_at < getvariable('as_of_end')
    group by registration_id
)

select
    revision.registration_id,
    revision.student_id,
    revision.revision_no,
    revision.status,
    revision.flags,
    graduates.name,
    graduates.college_name,
    current_revision.registration_id as current_registration_id,
    current_revision.revision_no as current_revision_no,
    last_decisions.last_reviewer,
    last_decisions.last_level,
    last_decisions.last_decision,
    last_decisions.last_decided_at
from registration_status as revision
join scoped_graduates as graduates using (student_id)
join current_revision_numbers using (student_id)
join registrations as current_revision
    on current_revision.student_id = revision.student_id
    and current_revision.revision_no = current_revision_numbers.revision_no
left join last_decisions on last_decisions.registration_id = revision.registration_id
where list_contains($ids::bigint[], revision.registration_id)
