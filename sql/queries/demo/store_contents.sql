-- What a store already holds: the demo refuses to write into one with graduates or this cohort's campaign.
select
    (select count(*) from graduates) as graduates,
    (select count(*) from campaigns where cohort = $cohort) as campaigns
