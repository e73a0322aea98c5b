-- The latest destination of each graduate an incoming file names.
with

latest as (
    select
        student_id,
        arg_max(destination_code, (recorded_at, destination_id)) as destination_code,
        arg_max(employer_name, (recorded_at, destination_id)) as employer_name,
        arg_max(employer_location, (recorded_at, destination_id)) as employer_location,
        arg_max(destination_name, (recorded_at, destination_id)) as destination_name
    from destinations
    where student_id in (select student_id from incoming)
    group by student_id
)

select * from latest
