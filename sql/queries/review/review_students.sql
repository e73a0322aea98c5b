-- The graduate each named revision belongs to (the store then narrows the stage views to them).
select registration_id, student_id
from registrations
where list_contains($ids::bigint[], registration_id)
