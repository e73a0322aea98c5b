-- Everything the detail page shows about one graduate, in one row: roster, destination,
-- current registration and where it stands, and the current hukou registration.
select
    graduates.*,
    coalesce(destinations.destination_name, destination_label(graduates.destination_code)) as destination_name,
    destinations.employer_name,
    destinations.employer_location,
    registrations.unit_name,
    registrations.province,
    registrations.city,
    registrations.district,
    registrations.address_detail,
    registrations.postcode,
    registrations.contact,
    registrations.phone as unit_phone,
    registrations.note,
    registrations.proof_count,
    registrations.transfer_number,
    ref_transfer_types.label as transfer_type_label,
    ref_stages.label as stage_label,
    hukou.migration_type as hukou_migration_type,
    hukou.province as hukou_province,
    hukou.city as hukou_city,
    hukou.district as hukou_district,
    hukou.address_detail as hukou_address
from graduate_stages as graduates
left join destinations using (destination_id)
left join registrations using (registration_id)
left join ref_transfer_types on ref_transfer_types.key = graduates.transfer_type
left join ref_stages on ref_stages.stage = graduates.stage
left join hukou_registrations as hukou using (hukou_id)
where graduates.student_id = $student_id
