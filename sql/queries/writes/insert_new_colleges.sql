-- Colleges named by an incoming roster that the store does not know yet.
insert or ignore into colleges (college_name)
select distinct college_name
from incoming
