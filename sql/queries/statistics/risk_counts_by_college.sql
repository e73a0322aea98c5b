-- How many graduates of each college are at risk, for each reason (the weekly workbook).
select
    college_name,
    reason,
    count(*) as people
from graduate_risks($cohort, NULL, NULL, NULL, NULL, NULL, NULL, NULL, $review_wait_days)
where reason is not null
group by all
order by all
