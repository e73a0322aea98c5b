-- The roster rows of the graduates an incoming file names.
select graduates.*
from graduates
where student_id in (select student_id from incoming)
