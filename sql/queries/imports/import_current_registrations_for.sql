-- The current revision (and its status) of each graduate an incoming file names.
select
    registration_id,
    student_id,
    revision_no,
    transfer_type,
    unit_name,
    province,
    city,
    district,
    address_detail,
    postcode,
    contact,
    phone,
    note,
    proof_count,
    transfer_number,
    submitted_at,
    status
from current_registrations
where student_id in (select student_id from incoming)
