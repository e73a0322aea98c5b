-- Completion per college and cohort: the counts `dangan stats` prints, by college.
create or replace view completion_by_college as
with

final as (
    select
        cohort,
        college_name,
        count(*) as graduates,
        count(registration_id) as registered,
        count(*) filter (where status = 'pending_college') as pending_college,
        count(*) filter (where status = 'pending_school') as pending_school,
        count(*) filter (where status = 'returned') as returned,
        count(*) filter (where status = 'approved') as approved,
        count(*) filter (where is_confirmed) as confirmed,
        count(*) filter (where is_verified) as verified,
        round(count(*) filter (where status = 'approved') / count(*), 4) as approved_rate
    from graduate_stages
    group by cohort, college_name
)

select * from final
