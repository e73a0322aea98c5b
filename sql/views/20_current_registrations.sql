-- Each graduate's current revision (the highest visible revision_no) and its status.
create or replace view current_registrations as
with

latest as (
    select
        student_id,
        max(revision_no) as revision_no,
        min(submitted_at) as first_submitted_at,
        count(*) as revisions
    from registrations
    where submitted_at < getvariable('as_of_end') and among_students(student_id)
    group by student_id
),

final as (
    select
        registration_status.*,
        latest.first_submitted_at,
        latest.revisions
    from registration_status
    join latest using (student_id, revision_no)
)

select * from final
