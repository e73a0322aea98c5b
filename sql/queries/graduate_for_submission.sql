-- The roster facts a new revision's flags are checked against, within the acting user's scope.
select student_id, name as graduate_name, phone as graduate_phone, origin_code
from scoped_graduates
where student_id = $student_id
