-- The graduates of one cohort that a page's filters select (NULL filter, cohort included: everything).
-- Pages and the CLI pass the same filters to every query, so links that carry them in the URL
-- open the same view.
create or replace macro filtered_graduates(
    cohort_, college_, major_, class_, transfer_type_, stage_, date_from_, date_to_
) as table
select *
from graduate_stages
where (cohort_ is null or cohort = cohort_)
    and (college_ is null or college_name = college_)
    and (major_ is null or major = major_)
    and (class_ is null or class_name = class_)
    and (transfer_type_ is null or transfer_type = transfer_type_)
    and (stage_ is null or stage = stage_)
    and (date_from_ is null or first_submitted_at >= date_from_::date)
    and (date_to_ is null or first_submitted_at < date_to_::date + interval 1 day)
