-- The proof images of one revision. Empty outside the acting user's scope.
select proof_id, file_name, mime_type, content
from registration_proofs
join registrations using (registration_id)
join scoped_graduates using (student_id)
where registration_id = $registration_id
order by proof_id
