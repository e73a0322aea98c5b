-- How many accounts exist (the login screen explains the first-run command when none does).
select count(*) as users from users
