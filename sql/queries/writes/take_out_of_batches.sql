-- Take these graduates out of the batches they are open in (a changed registration, the office):
-- only memberships since their last sending (a batch is done for an archive once it is sent).
update batch_members
set removed_at = $at, removed_reason = $reason
where removed_at is null
    and list_contains($ids::varchar[], student_id)
    and added_at > coalesce(
        (select max(w.recorded_at) from waybills as w where w.student_id = batch_members.student_id),
        timestamp '0001-01-01'
    )
