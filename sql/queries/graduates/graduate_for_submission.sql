-- The roster facts a graduate's own change is checked against (a new revision's flags, the
-- campaign's change deadline, whether their hukou is at the school), within the acting user's
-- scope.
select
    scoped_graduates.student_id,
    scoped_graduates.name as graduate_name,
    scoped_graduates.phone as graduate_phone,
    scoped_graduates.origin_code,
    scoped_graduates.cohort,
    scoped_graduates.is_hukou_at_school,
    campaigns.change_deadline
from scoped_graduates
left join campaigns using (cohort)
where scoped_graduates.student_id = $student_id
