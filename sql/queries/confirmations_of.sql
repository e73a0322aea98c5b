-- One graduate's confirmations, newest first, and whether each still holds.
select
    confirmations.confirmation_id,
    confirmations.answer,
    confirmations.confirmed_at,
    confirmations.confirmation_id = graduates.confirmation_id and graduates.is_confirmed as is_in_force
from confirmations
join graduate_stages as graduates using (student_id)
where confirmations.student_id = $student_id
    and confirmations.confirmed_at < getvariable('as_of_end')
order by confirmations.confirmed_at desc
