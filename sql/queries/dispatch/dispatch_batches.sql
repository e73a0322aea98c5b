-- Every dispatch batch of a cohort with how many of its archives (not taken out) wait to be
-- sent and how many were sent, by channel; newest first.
select
    members.batch_no as batch,
    count(*) filter (where waybills.waybill is null)::bigint as open,
    count(waybills.waybill)::bigint as sent,
    count(*) filter (where members.channel = 'jiyao')::bigint as jiyao,
    count(*) filter (where members.channel = 'ems')::bigint as ems
from batch_members as members
join scoped_graduates as graduates using (student_id)
left join waybills on waybills.student_id = members.student_id and waybills.batch_no = members.batch_no
where graduates.cohort = $cohort
    and members.added_at < getvariable('as_of_end')
    and (members.removed_at is null or members.removed_at >= getvariable('as_of_end'))
group by members.batch_no
order by members.batch_no desc
