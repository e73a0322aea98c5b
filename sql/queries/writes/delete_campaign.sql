-- Replacing a campaign's settings: its old row goes first, in the same transaction.
delete from campaigns
where cohort = $cohort
