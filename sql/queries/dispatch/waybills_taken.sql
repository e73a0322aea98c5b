-- Which of these waybill numbers are already on an archive (one waybill is never on two).
select waybill, student_id from waybills where list_contains($waybills::varchar[], waybill)
