-- The named graduates' reports of one kind that are still usable: not closed, not expired
-- (未确认 counts: it only lacks its date). Newest first; the caller keeps those on the
-- graduate's current confirmation.
select report_id, student_id, kind, report_number, confirmation_id, valid_until, issued_at
from verification_reports
where list_contains($ids::varchar[], student_id)
    and kind = $kind
    and issued_at < getvariable('as_of_end')
    and (closed_at is null or closed_at >= getvariable('as_of_end'))
    and (valid_until is null or valid_until >= getvariable('as_of'))
order by issued_at desc, report_id desc
