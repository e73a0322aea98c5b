-- What one revision holds as its form (to tell an unchanged save). Empty outside the scope.
select registrations.transfer_type, registrations.unit_name, registrations.province, registrations.city,
    registrations.district, registrations.address_detail, registrations.postcode, registrations.contact,
    registrations.phone, registrations.note
from registrations
join scoped_graduates using (student_id)
where registration_id = $registration_id
