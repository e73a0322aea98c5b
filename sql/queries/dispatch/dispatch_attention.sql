-- The archives the dispatch page names: those whose registration changed after batching (taken
-- out at the next batch) and those waiting (暂缓转递 / 留校保管), in the user's scope.
select student_id, name, college_name, is_stale_in_batch, is_waiting, wait_kind, wait_reason, wait_until
from archive_status
where cohort = $cohort and (is_stale_in_batch or is_waiting)
order by college_name, student_id
