-- Graduates at risk of missing the deadline, most urgent first: one page ($limit, $offset).
-- $reason narrows to one reason; risk_counts gives the totals for paging (no window count
-- here, so that DuckDB can keep just the top rows instead of sorting everyone).
with

at_risk as (
    select *
    from graduate_risks($cohort, $college, $major, $class, $transfer_type, $stage, $date_from, $date_to, $review_wait_days)
    where reason is not null
        and ($reason is null or reason = $reason)
),

final as (
    select
        student_id,
        name,
        college_name,
        major,
        class_name,
        advisor,
        phone,
        reason,
        status,
        return_reason,
        days_waiting
    from at_risk
    order by
        case reason
            when 'not_registered' then 1 when 'returned' then 2 when 'waiting_review' then 3
            when 'not_confirmed' then 4 else 5
        end,
        college_name, class_name, student_id
    limit $limit offset $offset
)

select * from final
