-- How many archives stand at each dispatch status, per college (a dean: their own), of the
-- graduates whose registration is approved and confirmed (the ones that can leave).
select college_name, dispatch_status, count(*)::bigint as archives,
    count(*) filter (where is_stale_in_batch)::bigint as stale,
    count(*) filter (where batch_no is not null)::bigint as batched
from archive_status
where cohort = $cohort and (is_ready or dispatch_status <> 'not_bagged')
group by all
order by college_name, dispatch_status
