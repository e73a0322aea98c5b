-- Each visible graduate's archive on its way (档案转递) as of getvariable('as_of'): its status
-- (pipelines/rules/dispatch.py STATUSES), the bag, the open batch, the latest sending, receipt,
-- return and wait. An archive moves 待装袋 → 已装袋 → 已寄出 → 已签收 / 被退回, or waits
-- (暂缓转递 / 留校保管) until its end date.
create or replace view archive_status as
with

bags as (
    select
        student_id,
        arg_max(complete, (marked_at, rowid)) as is_bagged,
        arg_max(items, (marked_at, rowid)) as bag_items,
        max(marked_at) as bagged_at
    from archive_bags
    where marked_at < getvariable('as_of_end') and among_students(student_id)
    group by student_id
),

sendings as (
    select
        student_id,
        arg_max(waybill, (recorded_at, waybill)) as waybill,
        arg_max(channel, (recorded_at, waybill)) as sent_channel,
        arg_max(sent_on, (recorded_at, waybill)) as sent_on,
        arg_max(batch_no, (recorded_at, waybill)) as sent_batch_no,
        max(recorded_at) as sent_at
    from waybills
    where recorded_at < getvariable('as_of_end') and among_students(student_id)
    group by student_id
),

events as (
    select
        student_id,
        max(happened_at) filter (where kind = 'received') as received_at,
        arg_max(unit_name, (happened_at, event_id)) filter (where kind = 'received') as received_by,
        max(happened_at) filter (where kind = 'returned') as returned_at,
        arg_max(reason_code, (happened_at, event_id)) filter (where kind = 'returned') as return_code,
        arg_max(reason, (happened_at, event_id)) filter (where kind = 'returned') as return_note,
        arg_max(kind, (happened_at, event_id)) filter (where kind in ('held', 'kept', 'released')) as wait_kind,
        arg_max(until, (happened_at, event_id)) filter (where kind in ('held', 'kept', 'released')) as wait_until,
        arg_max(reason, (happened_at, event_id)) filter (where kind in ('held', 'kept', 'released')) as wait_reason
    from archive_events
    where happened_at < getvariable('as_of_end') and among_students(student_id)
    group by student_id
),

members as (
    select
        student_id,
        arg_max(batch_no, (added_at, batch_no)) as batch_no,
        arg_max(registration_id, (added_at, batch_no)) as batched_registration_id,
        arg_max(channel, (added_at, batch_no)) as channel,
        max(added_at) as batched_at
    from batch_members
    where added_at < getvariable('as_of_end')
        and (removed_at is null or removed_at >= getvariable('as_of_end'))
        and among_students(student_id)
    group by student_id
),

joined as (
    select
        graduates.student_id,
        graduates.cohort,
        graduates.name,
        graduates.college_name,
        graduates.class_name,
        graduates.registration_id,
        graduates.stage,
        graduates.approved_at,
        graduates.stage in ('confirmed', 'verified') as is_ready,
        graduates.is_verified,
        coalesce(bags.is_bagged, false) as is_bagged,
        bags.bag_items,
        bags.bagged_at,
        sendings.waybill,
        sendings.sent_channel,
        sendings.sent_on,
        sendings.sent_batch_no,
        sendings.sent_at,
        events.received_at,
        events.received_by,
        events.returned_at,
        events.return_code,
        events.return_note,
        events.wait_kind,
        events.wait_until,
        events.wait_reason,
        -- an open batch: the member was added after the last sending (a batch is done once sent)
        case when members.batched_at > coalesce(sendings.sent_at, timestamp '0001-01-01') then members.batch_no end
            as batch_no,
        case when members.batched_at > coalesce(sendings.sent_at, timestamp '0001-01-01') then members.channel end
            as channel,
        case
            when members.batched_at > coalesce(sendings.sent_at, timestamp '0001-01-01')
                then members.batched_registration_id
        end as batched_registration_id
    from graduate_stages as graduates
    left join bags using (student_id)
    left join sendings using (student_id)
    left join events using (student_id)
    left join members using (student_id)
),

final as (
    select
        *,
        coalesce(wait_kind in ('held', 'kept') and wait_until >= getvariable('as_of'), false) as is_waiting,
        sent_at is not null and (returned_at is null or returned_at < sent_at) as is_sent,
        -- a batched revision that is no longer the graduate's current one is taken out (with a warning)
        batch_no is not null and batched_registration_id is distinct from registration_id as is_stale_in_batch,
        case
            when coalesce(wait_kind in ('held', 'kept') and wait_until >= getvariable('as_of'), false) then wait_kind
            when sent_at is not null and (returned_at is null or returned_at < sent_at)
                then case when received_at >= sent_at then 'received' else 'sent' end
            when returned_at is not null and (approved_at is null or approved_at < returned_at) then 'returned'
            when coalesce(is_bagged, false) then 'bagged'
            else 'not_bagged'
        end as dispatch_status
    from joined
)

select * from final
