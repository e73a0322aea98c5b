-- Graduates at risk of missing the deadline, one page ($limit, $offset): the highest risk
-- level first, then by class and 学号. $reason narrows to one reason; $reason_codes and
-- $reason_urgency give each reason's level today (pipelines/progress.py urgency_params).
-- risk_counts gives the totals for paging (no window count here, so that DuckDB can keep just
-- the top rows instead of sorting everyone).
with

at_risk as (
    select *
    from graduate_risks($cohort, $filters, $review_wait_days)
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
        map($reason_codes, $reason_urgency)[reason] desc,
        class_name,
        student_id
    limit $limit offset $offset
)

select * from final
