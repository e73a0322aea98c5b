-- The cohorts with a campaign, newest first.
select cohort, school_name, registration_deadline from campaigns order by cohort desc
