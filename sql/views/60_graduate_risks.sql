-- Why each selected graduate may miss the deadline (NULL: not at risk). The reasons' labels,
-- levels and reminder texts live in pipelines/progress.py.
create or replace macro graduate_risks(cohort_, f, review_wait_days_) as table
with

selected as (
    select
        *,
        coalesce(college_approved_at, submitted_at) as waiting_since
    from filtered_graduates(cohort_, f)
),

final as (
    select
        *,
        case
            when registration_id is null then 'not_registered'
            when status = 'returned' then 'returned'
            when status in ('pending_college', 'pending_school')
                and waiting_since < getvariable('as_of_end') - to_days(review_wait_days_)
                then 'waiting_review'
            when status = 'approved' and not is_confirmed then 'not_confirmed'
            when is_confirmed and not is_verified then 'not_verified'
        end as reason,
        date_diff('day', waiting_since::date, getvariable('as_of')) as days_waiting
    from selected
)

select * from final
