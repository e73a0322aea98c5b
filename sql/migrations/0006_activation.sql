-- Graduate accounts are opened with one-time activation codes (issue #15), never a password the
-- office chose. A code is kept only as a salted SHA-256; it expires, and it works once.
create sequence activation_ids start 1;
create table activation_codes (
    activation_id bigint primary key,
    user_id bigint not null,
    code_hash varchar not null,
    salt varchar not null,
    issued_at timestamp not null,
    expires_at timestamp not null,
    used_at timestamp,
    voided_at timestamp,                    -- a newer code was issued for the account
    issued_by varchar not null
);
