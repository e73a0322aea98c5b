-- Each selected graduate's current registration with its review outcome, in the column layout
-- of the registrations import (so the file can be carried back to the national system, and
-- importing it again changes nothing).
select
    graduates.student_id,
    graduates.name,
    ref_transfer_types.label as transfer_type,
    registrations.unit_name,
    registrations.province,
    registrations.city,
    registrations.district,
    registrations.address_detail,
    registrations.postcode,
    registrations.contact,
    registrations.phone,
    registrations.note,
    registrations.proof_count,
    coalesce(registrations.transfer_number, '') as transfer_number,
    strftime(registrations.submitted_at, '%Y-%m-%d %H:%M:%S') as submitted_at,
    ref_statuses.label as review_status,
    coalesce(graduates.return_reason, '') as return_reason,
    case when graduates.is_confirmed then '已确认' else '' end as is_confirmed,
    case when graduates.is_confirmed then strftime(graduates.confirmed_at, '%Y-%m-%d %H:%M:%S') else '' end
        as confirmed_at
from filtered_graduates($cohort, $filters) as graduates
join registrations using (registration_id)
left join ref_transfer_types on ref_transfer_types.key = registrations.transfer_type
left join ref_statuses on ref_statuses.status = graduates.status
order by graduates.college_name, graduates.class_name, graduates.student_id
