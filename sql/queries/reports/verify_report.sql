-- The public look-up: a report whose number and graduate's name both match, with what a
-- receiving unit may see: its status, whether the confirmation still holds, the archive unit
-- the graduate confirmed, and the validity date.
select
    reports.kind,
    reports.report_status,
    reports.is_confirmation_current,
    reports.state,
    reports.valid_until,
    registrations.unit_name
from verification_report_status as reports
join graduates using (student_id)
join confirmations using (confirmation_id)
left join registrations on registrations.registration_id = confirmations.registration_id
where reports.report_number = $report_number
    and graduates.name = $graduate_name
