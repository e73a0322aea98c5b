-- What issuing a verification report must know about the named graduates (within scope).
select
    graduate_stages.student_id,
    graduate_stages.name,
    graduate_stages.cohort,
    graduate_stages.is_confirmed,
    graduate_stages.confirmation_id,
    graduate_stages.hukou_id,
    graduate_stages.is_hukou_at_school,
    graduate_stages.graduation_date,
    campaigns.default_graduation_date,
    campaigns.school_code
from graduate_stages
join campaigns using (cohort)
where list_contains($ids::varchar[], graduate_stages.student_id)
