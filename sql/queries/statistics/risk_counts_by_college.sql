-- How many graduates of each college are at risk, for each reason (the weekly workbook).
select
    college_name,
    reason,
    count(*) as people
from graduate_risks($cohort, NULL, $review_wait_days)  -- NULL: no filters
where reason is not null
group by all
order by all
