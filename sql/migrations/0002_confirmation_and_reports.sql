-- Hukou registrations, confirmations and verification reports (the seed's modules 3-5), and
-- proof images. Added as a second migration so that stores built before it are upgraded.

create sequence hukou_ids start 1;
create table hukou_registrations (
    hukou_id bigint primary key,
    student_id varchar not null,
    migration_type varchar not null,       -- 户口迁移类型, same keys as transfer types
    province varchar,
    city varchar,
    district varchar,
    address_detail varchar,
    recorded_at timestamp not null,
    batch_id bigint
);

create sequence confirmation_ids start 1;
create table confirmations (
    confirmation_id bigint primary key,
    student_id varchar not null,
    answer varchar not null,               -- confirmed / needs_update
    confirmed_at timestamp not null,
    -- the snapshot: what the graduate confirmed. A later revision of any of them voids it.
    registration_id bigint,
    destination_id bigint,
    hukou_id bigint,
    batch_id bigint
);

create sequence report_ids start 1;
create table verification_reports (
    report_id bigint primary key,
    student_id varchar not null,
    kind varchar not null,                 -- archive / hukou
    report_number varchar not null unique, -- 核验编号, 15 characters, never reused
    confirmation_id bigint not null,
    issued_at timestamp not null,
    valid_until date,                      -- null: 未确认
    closed_at timestamp,
    issued_by varchar not null
);

create sequence proof_ids start 1;
create table registration_proofs (
    proof_id bigint primary key,
    registration_id bigint not null,
    file_name varchar not null,
    mime_type varchar not null,
    content blob not null,
    uploaded_at timestamp not null
);
