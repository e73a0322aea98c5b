-- Each graduate's current revision: the highest visible revision_no (what "current" means,
-- once: current_registrations below, and the review decision's checks, read it here).
create or replace view current_revision_numbers as
select
    student_id,
    max(revision_no) as revision_no,
    min(submitted_at) as first_submitted_at,
    count(*) as revisions
from registrations
where submitted_at < getvariable('as_of_end') and among_students(student_id)
group by student_id;

-- Each graduate's current revision and its status.
create or replace view current_registrations as
select
    registration_status.*,
    current_revision_numbers.first_submitted_at,
    current_revision_numbers.revisions
from registration_status
join current_revision_numbers using (student_id, revision_no)
