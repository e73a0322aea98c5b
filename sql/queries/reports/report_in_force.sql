-- The named graduates' reports of one kind that are still usable (report_usable: not closed, not expired;
-- 未确认 counts, it only lacks its date). Newest first; the caller keeps those on the
-- graduate's current confirmation.
select report_id, student_id, kind, report_number, confirmation_id, valid_until, issued_at
from verification_reports
where list_contains($ids::varchar[], student_id)
    and kind = $kind
    and issued_at < getvariable('as_of_end')
    and report_usable(closed_at, valid_until)
order by issued_at desc, report_id desc
