-- One graduate's unmasked sensitive fields (pipelines/privacy.py DISCLOSURE), within the acting
-- user's scope; pipelines/privacy.py records the reveal in the same transaction.
select
    graduates.student_id,
    graduates.name,
    graduates.id_number,
    graduates.phone,
    registrations.phone as unit_phone,
    registrations.address_detail,
    hukou.address_detail as hukou_address
from scoped_graduates as graduates
left join graduate_stages as stages using (student_id)
left join registrations on registrations.registration_id = stages.registration_id
left join hukou_registrations as hukou on hukou.hukou_id = stages.hukou_id
where graduates.student_id = $student_id
