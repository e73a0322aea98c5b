-- The values each filter can take in a cohort (for the filter bar), within the chosen college.
select distinct
    college_name,
    major,
    class_name
from scoped_graduates
where cohort = $cohort
    and ($college is null or college_name = $college)
order by all
