-- An admin's change to an account: its name, role, colleges, OIDC mapping or whether it may log in.
update users
set display_name = $display_name, role = $role, colleges = $colleges, student_id = $student_id,
    oidc_subject = $oidc_subject, disabled = $disabled, updated_at = $now
where user_id = $user_id
