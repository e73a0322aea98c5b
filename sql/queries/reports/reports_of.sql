-- One graduate's verification reports, newest first.
select
    report_id,
    kind,
    report_number,
    issued_at,
    valid_until,
    closed_at,
    report_status,
    is_confirmation_current,
    state
from verification_report_status
where student_id = $student_id
order by issued_at desc, report_id desc
