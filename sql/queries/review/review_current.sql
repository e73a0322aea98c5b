-- The current revision of each named graduate as the stages show it (status, flags), within the
-- acting user's scope: what a review decision checks first. A decision that this does not
-- settle (another revision, or one the workflow refuses) is looked at again in full
-- (review_targets.sql), so its refusal can say who decided first.
select
    registration_id,
    student_id,
    revision_no,
    status,
    flags,
    name,
    college_name
from graduate_stages
where list_contains($students::varchar[], student_id)
    and registration_id is not null
