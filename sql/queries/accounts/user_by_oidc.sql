-- The account a 统一身份认证 (OIDC) identity is mapped to, if any.
select * from users where oidc_subject = $subject
