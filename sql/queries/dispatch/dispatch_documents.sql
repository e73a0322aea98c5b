-- What the printed papers of one batch show, one row per archive still in it (slips, labels,
-- the post's list): the current registration, the graduate's destination and the bag.
select
    archives.batch_no,
    archives.channel,
    archives.student_id,
    graduates.name,
    graduates.gender,
    graduates.college_name,
    graduates.class_name,
    graduates.id_number,
    graduates.origin_name,
    registrations.transfer_number,
    registrations.transfer_type,
    registrations.unit_name,
    registrations.province,
    registrations.city,
    registrations.district,
    registrations.address_detail,
    registrations.postcode,
    registrations.contact,
    registrations.phone,
    destinations.employer_name,
    archives.bag_items,
    archives.waybill
from archive_status as archives
join scoped_graduates as graduates using (student_id)
join registrations on registrations.registration_id = archives.registration_id
left join destinations on destinations.destination_id = (
    select arg_max(d.destination_id, (d.recorded_at, d.destination_id))
    from destinations as d
    where d.student_id = archives.student_id and d.recorded_at < getvariable('as_of_end')
)
where archives.batch_no = $batch_no and not archives.is_stale_in_batch
order by archives.channel, graduates.class_name, archives.student_id
