-- What the printed papers of one batch show, one row per archive in it and not taken out (slips,
-- labels, the post's list; printable again after sending): the revision that was batched, the
-- graduate's destination and the bag.
select
    members.batch_no,
    members.channel,
    members.student_id,
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
    waybills.waybill
from batch_members as members
join scoped_graduates as graduates using (student_id)
join registrations on registrations.registration_id = members.registration_id
left join archive_status as archives on archives.student_id = members.student_id
left join waybills on waybills.student_id = members.student_id and waybills.batch_no = members.batch_no
-- the current destination as the stages define it (graduate_detail.sql reads it the same way)
left join graduate_stages as stages on stages.student_id = members.student_id
left join destinations on destinations.destination_id = stages.destination_id
where members.batch_no = $batch_no
    and members.added_at < getvariable('as_of_end')
    and (members.removed_at is null or members.removed_at >= getvariable('as_of_end'))
order by members.channel, graduates.class_name, members.student_id
