-- One row per graduate the acting user may see: roster, current registration, confirmation,
-- verification, and the stage they have reached, computed from the history. Pages read it
-- through `graduate_stages`, which serves a materialised copy when one exists for the day.
create or replace view graduate_stages_live as
with

-- The latest of each kind of record; two can share a second, so ids break the tie.
current_destinations as (
    select
        student_id,
        arg_max(destination_id, (recorded_at, destination_id)) as destination_id,
        arg_max(destination_code, (recorded_at, destination_id)) as destination_code
    from destinations
    where recorded_at < getvariable('as_of_end') and among_students(student_id)
    group by student_id
),

current_hukou as (
    select
        student_id,
        arg_max(hukou_id, (recorded_at, hukou_id)) as hukou_id
    from hukou_registrations
    where recorded_at < getvariable('as_of_end') and among_students(student_id)
    group by student_id
),

latest_confirmations as (
    select
        student_id,
        arg_max(confirmation_id, (confirmed_at, confirmation_id)) as confirmation_id,
        arg_max(answer, (confirmed_at, confirmation_id)) as answer,
        arg_max(registration_id, (confirmed_at, confirmation_id)) as registration_id,
        arg_max(destination_id, (confirmed_at, confirmation_id)) as destination_id,
        arg_max(hukou_id, (confirmed_at, confirmation_id)) as hukou_id,
        max(confirmed_at) as confirmed_at
    from confirmations
    where confirmed_at < getvariable('as_of_end') and among_students(student_id)
    group by student_id
),

reports_in_force as (
    select
        confirmation_id,
        min(valid_until) as valid_until,
        min(issued_at) as issued_at
    from verification_reports
    where kind = 'archive'
        and among_students(student_id)
        and issued_at < getvariable('as_of_end')
        and report_in_force(closed_at, valid_until)
    group by confirmation_id
),

joined as (
    select
        scoped_graduates.*,
        ref_provinces.name as origin_province,
        current_destinations.destination_id,
        current_destinations.destination_code,
        current_hukou.hukou_id,
        current_registrations.registration_id,
        current_registrations.revision_no,
        current_registrations.transfer_type,
        current_registrations.status,
        current_registrations.flags,
        current_registrations.submitted_at,
        current_registrations.first_submitted_at,
        current_registrations.college_approved_at,
        current_registrations.approved_at,
        current_registrations.return_reason,
        latest_confirmations.confirmation_id,
        latest_confirmations.confirmed_at,
        -- a confirmation holds only while everything it confirmed is still current
        coalesce(
            current_registrations.status = 'approved'
            and latest_confirmations.answer = 'confirmed'
            and latest_confirmations.registration_id = current_registrations.registration_id
            and latest_confirmations.destination_id is not distinct from current_destinations.destination_id
            and latest_confirmations.hukou_id is not distinct from current_hukou.hukou_id,
            false
        ) as is_confirmed,
        reports_in_force.valid_until as report_valid_until,
        reports_in_force.issued_at as report_issued_at
    from scoped_graduates
    left join ref_provinces on ref_provinces.code = left(scoped_graduates.origin_code, 2)
    left join current_destinations using (student_id)
    left join current_hukou using (student_id)
    left join current_registrations using (student_id)
    left join latest_confirmations using (student_id)
    left join reports_in_force on reports_in_force.confirmation_id = latest_confirmations.confirmation_id
),

final as (
    select
        * exclude (report_valid_until, report_issued_at),
        is_confirmed and report_valid_until is not null as is_verified,
        -- when the archive report in force was issued: the day the graduate became verified
        case when is_confirmed and report_valid_until is not null then report_issued_at end as verified_at,
        case
            when registration_id is null then 'not_registered'
            when is_confirmed and report_valid_until is not null then 'verified'
            when is_confirmed then 'confirmed'
            else status
        end as stage
    from joined
)

select * from final
