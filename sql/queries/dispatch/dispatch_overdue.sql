-- The archives sent more than $days days ago that no receiving unit has confirmed yet (to chase
-- with the post office or the unit), the oldest first.
select
    archives.student_id,
    archives.name,
    archives.college_name,
    archives.class_name,
    archives.sent_channel,
    archives.waybill,
    archives.sent_on,
    date_diff('day', archives.sent_on, getvariable('as_of')) as days_since_sent,
    registrations.unit_name
from archive_status as archives
left join registrations using (registration_id)
where archives.cohort = $cohort
    and archives.dispatch_status = 'sent'
    and date_diff('day', archives.sent_on, getvariable('as_of')) > $days
order by archives.sent_on, archives.student_id
limit 500
