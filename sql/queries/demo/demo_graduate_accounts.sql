-- The demo store's graduate accounts and where each stands (printed by `dangan demo`).
select users.username, graduates.name, graduates.college_name, graduates.stage
from users
join graduate_stages as graduates using (student_id)
where users.role = 'graduate'
order by users.user_id
