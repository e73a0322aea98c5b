-- The core of the store: campaigns, the roster, destinations and archive registrations with
-- their reviews. Registrations, destinations and reviews are append-only: a change is a new row.

create table settings (
    key varchar primary key,
    value varchar not null
);

create table campaigns (
    cohort integer primary key,            -- 届别, e.g. 2024
    school_name varchar not null,
    notice_number varchar,                 -- 江服就发〔2024〕27号
    notice_title varchar,
    opens_on date,
    registration_deadline date not null,   -- 登记截止
    change_deadline date,                  -- changes after confirmation possible until (8-31)
    default_graduation_date date not null,
    created_at timestamp not null default current_timestamp
);

create table colleges (
    college_name varchar primary key,
    college_code varchar
);

create table graduates (
    -- ids
    student_id varchar primary key,        -- 学号, text: leading zeros matter
    cohort integer not null,
    -- person
    name varchar not null,
    gender varchar,
    id_number varchar,                     -- 身份证号, sensitive
    phone varchar,                         -- sensitive
    -- study
    college_name varchar not null,
    major varchar,
    class_name varchar,
    advisor varchar,                       -- 班主任
    education_level varchar,               -- 学历层次 code
    graduation_date date,
    -- origin and hukou
    origin_code varchar,                   -- 生源地代码, GB/T 2260
    origin_name varchar,
    is_hukou_at_school boolean not null default false,
    -- bookkeeping
    batch_id bigint,
    updated_at timestamp not null
);

create sequence destination_ids start 1;
create table destinations (
    destination_id bigint primary key,
    student_id varchar not null,
    destination_code varchar not null,     -- 毕业去向代码
    employer_name varchar,
    employer_location varchar,
    recorded_at timestamp not null,
    batch_id bigint
);

create sequence registration_ids start 1;
create table registrations (
    -- ids
    registration_id bigint primary key,    -- one immutable revision
    student_id varchar not null,
    revision_no integer not null,
    -- the form
    transfer_type varchar not null,
    unit_name varchar not null,
    province varchar not null,
    city varchar not null,
    district varchar not null,
    address_detail varchar not null,
    postcode varchar not null,
    contact varchar not null,
    phone varchar not null,
    note varchar not null,
    proof_count integer not null,
    -- derived at submission by pipelines.checks
    flags varchar[] not null,
    -- bookkeeping
    submitted_at timestamp not null,
    source varchar not null,               -- import / graduate / demo
    batch_id bigint,
    unique (student_id, revision_no)
);

create sequence review_ids start 1;
create table reviews (
    review_id bigint primary key,
    registration_id bigint not null,       -- the revision the reviewer saw
    level varchar not null,                -- college / school
    decision varchar not null,             -- approve / return
    reason varchar,
    reviewer varchar not null,
    decided_at timestamp not null,
    batch_id bigint,
    -- one decision per revision and level: two reviewers racing cannot both take effect
    unique (registration_id, level)
);

create sequence batch_ids start 1;
create table import_batches (
    batch_id bigint primary key,
    kind varchar not null,                 -- roster / destinations / registrations / demo
    file_name varchar,
    file_sha256 varchar,
    cohort integer,
    rows_read integer not null,
    rows_inserted integer not null,
    rows_updated integer not null,
    rows_unchanged integer not null,
    rows_refused integer not null,
    actor varchar not null,
    started_at timestamp not null,
    finished_at timestamp not null
);

create sequence audit_ids start 1;
create table audit_log (
    audit_id bigint primary key,
    logged_at timestamp not null,
    actor varchar not null,
    role varchar not null,
    action varchar not null,
    target varchar,
    detail json,
    write_token varchar                    -- lets the writer check that its COMMIT took effect
);
