-- Graduates named by an incoming file whose current registration is approved: whether it is
-- confirmed, and the current revisions a new confirmation would snapshot. One pass over the
-- stages (a writer sees the live view) answers both what may be confirmed and what may not.
select
    student_id,
    registration_id,
    destination_id,
    hukou_id,
    is_confirmed
from graduate_stages
where student_id in (select student_id from incoming)
    and status = 'approved'
