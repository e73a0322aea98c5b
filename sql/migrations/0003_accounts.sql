-- Built-in accounts (issue #6): who may log in, with which role and colleges. Passwords are
-- kept as salted scrypt hashes only; a run of failed logins locks an account for a while.

create sequence user_ids start 1;
create table users (
    user_id bigint primary key,
    username varchar not null unique,       -- a staff id, or a graduate's 学号
    display_name varchar not null,
    role varchar not null,                  -- admin / school_reviewer / college_reviewer / analyst / graduate
    colleges varchar[],                     -- college_reviewer: the colleges they may see
    student_id varchar,                     -- graduate: their own record
    password_hash varchar,                  -- scrypt$n$r$p$salt$hash (base64); null: OIDC only
    must_change_password boolean not null default false,
    oidc_subject varchar unique,            -- 统一身份认证 identity mapped to this user
    failed_logins integer not null default 0,
    locked_until timestamp,
    disabled boolean not null default false,
    created_at timestamp not null,
    updated_at timestamp not null
);
