-- Which of these 统一身份认证 identities are already mapped to an account.
select oidc_subject
from users
where list_contains($ids::varchar[], oidc_subject)
