-- The newest campaign in the store, which commands use unless told otherwise.
select max(cohort) as cohort
from campaigns
