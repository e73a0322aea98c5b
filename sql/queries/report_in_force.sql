-- A graduate's report of one kind on one confirmation that is still usable: not closed, not
-- expired (未确认 counts: it only lacks its date). Newest first.
select report_id, student_id, kind, report_number, valid_until, issued_at
from verification_reports
where student_id = $student_id
    and kind = $kind
    and confirmation_id = $confirmation_id
    and issued_at < getvariable('as_of_end')
    and (closed_at is null or closed_at >= getvariable('as_of_end'))
    and (valid_until is null or valid_until >= getvariable('as_of'))
order by issued_at desc, report_id desc
