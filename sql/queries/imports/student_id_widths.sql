-- How long the roster's 学号 are: a 学号 cell that Excel turned into a number and that is
-- shorter than these has lost its leading zeros.
select min(length(student_id)) as shortest, max(length(student_id)) as longest
from graduates
