-- A graduate's current 毕业去向 (the latest record), within the acting user's scope.
select destinations.destination_id, destinations.destination_code, destinations.employer_name,
    destinations.employer_location
from destinations
join scoped_graduates using (student_id)
where destinations.student_id = $student_id and destinations.recorded_at < getvariable('as_of_end')
order by destinations.recorded_at desc, destinations.destination_id desc
limit 1
