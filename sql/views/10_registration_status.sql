-- Every visible revision with the status its reviews give it, as of getvariable('as_of').
-- Events stamped after the as-of day are invisible, so `--today` replays the past faithfully.
create or replace view registration_status as
with

visible_reviews as (
    select *
    from reviews
    where decided_at < getvariable('as_of_end')
        and (getvariable('only_students') is null
            or registration_id in (select registration_id from registrations where among_students(student_id)))
),

review_summary as (
    select
        registration_id,
        bool_or(decision = 'return') as is_returned,
        bool_or(level = 'college' and decision = 'approve') as is_college_approved,
        bool_or(level = 'school' and decision = 'approve') as is_school_approved,
        max(decided_at) as last_decided_at,
        max(decided_at) filter (where level = 'college' and decision = 'approve') as college_approved_at,
        max(decided_at) filter (where level = 'school' and decision = 'approve') as approved_at,
        arg_max(reason, decided_at) filter (where decision = 'return') as return_reason
    from visible_reviews
    group by registration_id
),

final as (
    select
        registrations.*,
        case
            when review_summary.is_returned then 'returned'
            when review_summary.is_school_approved then 'approved'
            when review_summary.is_college_approved then 'pending_school'
            else 'pending_college'
        end as status,
        review_summary.last_decided_at,
        review_summary.college_approved_at,
        review_summary.approved_at,
        review_summary.return_reason
    from registrations
    left join review_summary using (registration_id)
    where registrations.submitted_at < getvariable('as_of_end')
        and among_students(registrations.student_id)
)

select * from final
