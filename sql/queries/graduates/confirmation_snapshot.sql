-- What a confirmation would snapshot for one graduate: the current registration (and its
-- status), destination and hukou registration, and whether their hukou is at the school.
-- Empty outside the acting user's scope.
select registration_id, status, destination_id, hukou_id, is_hukou_at_school
from graduate_stages
where student_id = $student_id
