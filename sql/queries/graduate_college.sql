-- The college of one graduate (the dashboard keys a graduate's cached results by it).
select college_name
from graduates
where student_id = $student_id
