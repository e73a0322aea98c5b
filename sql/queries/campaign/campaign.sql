-- The campaign of one cohort.
select *
from campaigns
where cohort = $cohort
