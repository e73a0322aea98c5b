-- The values each filter can take in a cohort (for the filter bar), within the colleges the
-- acting user may see.
select distinct
    college_name,
    major,
    class_name
from roster_options
where cohort = $cohort
    and in_college_scope(college_name)
order by all
