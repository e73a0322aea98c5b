-- One graduate's confirmations, newest first: whether each still holds, and whether it was
-- about what is current now (nothing registered, recorded or resubmitted since).
select
    confirmations.confirmation_id,
    confirmations.answer,
    confirmations.confirmed_at,
    confirmations.confirmation_id = graduates.confirmation_id and graduates.is_confirmed as is_in_force,
    confirmations.registration_id is not distinct from graduates.registration_id
        and confirmations.destination_id is not distinct from graduates.destination_id
        and confirmations.hukou_id is not distinct from graduates.hukou_id as is_about_current
from confirmations
join graduate_stages as graduates using (student_id)
where confirmations.student_id = $student_id
    and confirmations.confirmed_at < getvariable('as_of_end')
order by confirmations.confirmed_at desc, confirmations.confirmation_id desc
