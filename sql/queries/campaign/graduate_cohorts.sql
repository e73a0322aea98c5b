-- Every cohort with graduates on the roster (the daily snapshot counts each), oldest first.
select distinct cohort from graduates order by cohort
