-- The graduates of one cohort that a page's filters select (NULL filter, cohort included: everything).
-- `f` is the filters, one struct (pipelines/rules/filters.py Filters.params() gives it as
-- $filters; NULL: none): every macro and query takes the bundle whole and this is the one
-- place that reads its fields. Pages and the CLI pass the same filters to every query, so links
-- that carry them in the URL open the same view.
create or replace macro filtered_graduates(cohort_, f) as table
select *
from graduate_stages
where (cohort_ is null or cohort = cohort_)
    and (f['college'] is null or college_name = f['college'])
    and (f['major'] is null or major = f['major'])
    and (f['class'] is null or class_name = f['class'])
    and (f['transfer_type'] is null or transfer_type = f['transfer_type'])
    and (f['stage'] is null or stage = f['stage'])
    and (f['date_from'] is null or first_submitted_at >= f['date_from']::date)
    and (f['date_to'] is null or first_submitted_at < f['date_to']::date + interval 1 day)
