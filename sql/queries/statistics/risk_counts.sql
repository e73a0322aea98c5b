-- How many selected graduates are at risk, for each reason.
select
    reason,
    count(*) as graduates
from graduate_risks($cohort, $filters, $review_wait_days)
where reason is not null
group by reason
