-- The archives of one cohort (or the named graduates) as the acting user may see them: their
-- dispatch status and what a batch, a slip or a waybill needs of the current registration.
select
    archives.*,
    registrations.transfer_type,
    registrations.transfer_number,
    registrations.province,
    registrations.unit_name
from archive_status as archives
left join registrations using (registration_id)
where ($cohort is null or archives.cohort = $cohort)
    and ($college is null or archives.college_name = $college)
    and ($class is null or archives.class_name = $class)
    and ($ids is null or list_contains($ids::varchar[], archives.student_id))
