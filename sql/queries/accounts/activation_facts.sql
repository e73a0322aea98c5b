-- The roster fact an activation checks besides the code (the 身份证号's last six characters).
select id_number from graduates where student_id = $student_id
