-- A graduate's current 户口信息登记 (the latest record), within the acting user's scope.
select hukou.hukou_id, hukou.migration_type, hukou.province, hukou.city, hukou.district, hukou.address_detail
from hukou_registrations as hukou
join scoped_graduates using (student_id)
where hukou.student_id = $student_id and hukou.recorded_at < getvariable('as_of_end')
order by hukou.recorded_at desc, hukou.hukou_id desc
limit 1
