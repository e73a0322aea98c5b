-- A graduate's current revision, within the acting user's scope.
select current_registrations.registration_id, current_registrations.revision_no, current_registrations.status,
    current_registrations.transfer_number
from current_registrations
join scoped_graduates using (student_id)
where student_id = $student_id
