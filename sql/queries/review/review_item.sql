-- One revision as the review pane shows it: every field, the graduate, where it stands, and the
-- graduate's current destination. Empty outside the acting user's scope.
select
    registrations.*,
    registration_status.status,
    registration_status.return_reason,
    graduates.name,
    graduates.college_name,
    graduates.major,
    graduates.class_name,
    graduates.advisor,
    graduates.origin_code,
    graduates.origin_name,
    stages.registration_id as current_registration_id,
    stages.destination_code,
    coalesce(destinations.destination_name, destination_label(stages.destination_code)) as destination_name,
    destinations.employer_name,
    destinations.employer_location,
    ref_transfer_types.label as transfer_type_label
from registrations
join registration_status using (registration_id)
join scoped_graduates as graduates on graduates.student_id = registrations.student_id
left join graduate_stages as stages on stages.student_id = registrations.student_id
left join destinations on destinations.destination_id = stages.destination_id
left join ref_transfer_types on ref_transfer_types.key = registrations.transfer_type
where registrations.registration_id = $registration_id
