-- The public look-up by 转递编号: the registration carrying this number, when the graduate's
-- name matches too, with what a receiving unit may see: where it stands, whether it is still the
-- graduate's current registration, and the unit it names.
select
    registrations.unit_name,
    registration_status.status,
    registrations.registration_id = stages.registration_id as is_current,
    coalesce(stages.is_confirmed, false) as is_confirmed
from registrations
join registration_status using (registration_id)
join graduates on graduates.student_id = registrations.student_id
left join graduate_stages as stages on stages.student_id = registrations.student_id
where registrations.transfer_number = $transfer_number
    and graduates.name = $graduate_name
order by registrations.revision_no desc
limit 1
