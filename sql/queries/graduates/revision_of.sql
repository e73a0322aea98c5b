-- One numbered revision of a graduate's registration, with its status (for what changed since
-- the returned one). Empty outside the acting user's scope.
select registration_status.*
from registration_status
join scoped_graduates using (student_id)
where student_id = $student_id
    and revision_no = $revision_no
