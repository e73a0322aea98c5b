-- Each visible verification report with its status as of getvariable('as_of') (report_status,
-- 04_report_rules.sql), whether its confirmation still holds, and the state a page shows
-- (report_state: the status, or void when a usable report's graduate must confirm again).
create or replace view verification_report_status as
with

statuses as (
    select
        reports.*,
        report_status(reports.closed_at, reports.valid_until) as report_status,
        coalesce(graduates.is_confirmed and graduates.confirmation_id = reports.confirmation_id, false)
            as is_confirmation_current
    from verification_reports as reports
    join graduate_stages as graduates using (student_id)
    where reports.issued_at < getvariable('as_of_end')
),

final as (
    select
        *,
        report_state(report_status, is_confirmation_current) as state
    from statuses
)

select * from final
