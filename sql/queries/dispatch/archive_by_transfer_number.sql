-- The archives whose current registration carries one of these 转递编号 (waybill and receipt files
-- name an archive by it, or by 学号).
select archives.student_id, registrations.transfer_number
from archive_status as archives
join registrations using (registration_id)
where list_contains($numbers::varchar[], registrations.transfer_number)
