-- What a destinations or registrations row is matched and checked against: the roster name,
-- phone and origin of each graduate an incoming file names (not the whole roster row).
select
    student_id,
    name,
    phone,
    origin_code
from graduates
where student_id in (select student_id from incoming)
