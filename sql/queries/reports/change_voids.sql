-- Whether a graduate's confirmation is in force now (what a change to their registration,
-- destination or hukou would void), within the acting user's scope. The reports on it come
-- from report_in_force.sql; submissions.void_warning says what the change voids.
select student_id, is_confirmed, confirmation_id, confirmed_at
from graduate_stages_live
where student_id = $student_id
