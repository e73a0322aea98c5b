-- Graduates named by an incoming file whose current registration is approved.
select student_id
from graduate_stages
where student_id in (select student_id from incoming)
    and status = 'approved'
