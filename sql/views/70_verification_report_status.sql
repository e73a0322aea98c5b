-- Each visible verification report with its status as of getvariable('as_of'):
-- unset (未确认) until a validity date is set, then active, closed or expired; a report whose
-- confirmation no longer holds is void (its graduate must confirm again).
create or replace view verification_report_status as
with

final as (
    select
        reports.*,
        case
            when reports.closed_at < getvariable('as_of_end') then 'closed'
            when reports.valid_until is null then 'unset'
            when reports.valid_until < getvariable('as_of') then 'expired'
            else 'active'
        end as report_status,
        coalesce(graduates.is_confirmed and graduates.confirmation_id = reports.confirmation_id, false)
            as is_confirmation_current
    from verification_reports as reports
    join graduate_stages as graduates using (student_id)
    where reports.issued_at < getvariable('as_of_end')
)

select * from final
