-- After the registration deadline, per college (a dean: their own): the archives whose bag is
-- not complete (approved and confirmed, not bagged), the bagged ones not sent yet, and those
-- sent more than $days days ago that no receiving unit has confirmed.
select * from (
    select
        college_name,
        count(*) filter (where dispatch_status = 'not_bagged' and is_ready)::bigint as not_bagged,
        count(*) filter (where dispatch_status = 'bagged')::bigint as not_sent,
        count(*) filter (
            where dispatch_status = 'sent' and date_diff('day', sent_on, getvariable('as_of')) > $days
        )::bigint as overdue
    from archive_status
    where cohort = $cohort
    group by all
)
where not_bagged + not_sent + overdue > 0
order by college_name
