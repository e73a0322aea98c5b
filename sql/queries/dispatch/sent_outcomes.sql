-- Every archive sent, with the flags of the revision that was sent and what became of it
-- (received, returned with a reason, or not yet known): the checks learn from these.
with sent as (
    select waybills.student_id, waybills.registration_id, waybills.recorded_at as sent_at, waybills.waybill
    from waybills
    join scoped_graduates using (student_id)
    where waybills.recorded_at < getvariable('as_of_end') and scoped_graduates.cohort = $cohort
),
outcomes as (
    select
        sent.*,
        (select min(e.happened_at) from archive_events as e
            where e.student_id = sent.student_id and e.kind = 'received' and e.happened_at >= sent.sent_at
                and e.happened_at < getvariable('as_of_end')) as received_at,
        (select arg_min(e.reason_code, e.happened_at) from archive_events as e
            where e.student_id = sent.student_id and e.kind = 'returned' and e.happened_at >= sent.sent_at
                and e.happened_at < getvariable('as_of_end')) as return_code
    from sent
)
select outcomes.*, registrations.flags
from outcomes
join registrations using (registration_id)
