-- Everything a verification report's PDF prints, for the named reports within the acting
-- user's scope, in class and advisor order (ready to put into archive bags). The archive and
-- hukou details are those the graduate confirmed.
select
    reports.report_id,
    reports.kind,
    reports.report_number,
    reports.valid_until,
    reports.issued_at,
    graduates.student_id,
    graduates.name,
    graduates.id_number,
    graduates.college_name,
    graduates.major,
    graduates.class_name,
    graduates.advisor,
    campaigns.school_name,
    campaigns.cohort,
    campaigns.notice_number,
    destinations.destination_code,
    coalesce(destinations.destination_name, destination_label(destinations.destination_code)) as destination_name,
    destinations.employer_name,
    ref_transfer_types.label as transfer_type_label,
    registrations.unit_name,
    concat_ws('', registrations.province, registrations.city, registrations.district, registrations.address_detail)
        as unit_address,
    registrations.postcode,
    registrations.contact,
    registrations.phone as unit_phone,
    registrations.transfer_number,
    hukou_types.label as hukou_type_label,
    concat_ws('', hukou.province, hukou.city, hukou.district, hukou.address_detail) as hukou_address
from verification_reports as reports
join scoped_graduates as graduates using (student_id)
join campaigns using (cohort)
join confirmations using (confirmation_id)
left join registrations on registrations.registration_id = confirmations.registration_id
left join destinations on destinations.destination_id = confirmations.destination_id
left join ref_transfer_types on ref_transfer_types.key = registrations.transfer_type
left join hukou_registrations as hukou on hukou.hukou_id = confirmations.hukou_id
left join ref_transfer_types as hukou_types on hukou_types.key = hukou.migration_type
where list_contains($ids::bigint[], reports.report_id)
order by graduates.college_name, graduates.class_name, graduates.advisor, graduates.student_id, reports.kind
