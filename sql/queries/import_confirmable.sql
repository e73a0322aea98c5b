-- Graduates named by an incoming file whose current registration is approved but not yet
-- confirmed, with the current revisions a new confirmation would snapshot.
select
    student_id,
    registration_id,
    destination_id,
    hukou_id
from graduate_stages
where student_id in (select student_id from incoming)
    and status = 'approved'
    and not is_confirmed
