-- The archive's dispatch (档案转递): what goes into each bag, batches, waybills, and what happens
-- to an archive afterwards (receipt, return, a wait). Append-only, like the registrations: a
-- bag marked again, a member taken out of a batch, a wait lifted are new rows or a stamp.

alter table campaigns add column bag_items varchar[];                 -- the bag's list besides the report
alter table campaigns add column bag_requires_report boolean default true;
alter table campaigns add column dispatch_rule varchar default 'ems_in_province';  -- rules/dispatch.py CHANNEL_RULES
alter table campaigns add column school_province varchar;             -- 省份, for the channel rule

create table archive_bags (
    student_id varchar not null,
    complete boolean not null,
    items varchar[] not null,          -- what was checked in
    marked_at timestamp not null,
    marked_by varchar not null
);
create index archive_bags_student on archive_bags (student_id);

create sequence dispatch_batch_nos start 1;
create table dispatch_batches (
    batch_no bigint primary key,
    cohort integer not null,
    scope varchar not null,            -- what the office chose: 学院、班级、寄送方式
    created_at timestamp not null,
    created_by varchar not null
);

create table batch_members (
    batch_no bigint not null,
    student_id varchar not null,
    registration_id bigint not null,   -- the approved revision that was batched
    channel varchar not null,          -- jiyao / ems (rules/dispatch.py)
    added_at timestamp not null,
    removed_at timestamp,              -- taken out (the registration changed, or by the office)
    removed_reason varchar
);
create index batch_members_student on batch_members (student_id);

create table waybills (
    waybill varchar primary key,       -- one waybill is never on two archives
    student_id varchar not null,
    registration_id bigint not null,
    batch_no bigint,
    channel varchar not null,
    sent_on date not null,
    recorded_at timestamp not null,
    recorded_by varchar not null
);
create index waybills_student on waybills (student_id);

create sequence archive_event_ids start 1;
create table archive_events (
    event_id bigint primary key,
    student_id varchar not null,
    kind varchar not null,             -- received / returned / held / kept / released
    waybill varchar,                   -- the sending a receipt or a return concerns
    reason_code varchar,               -- returned: rules/dispatch.py RETURN_REASONS
    reason varchar,
    unit_name varchar,                 -- received: the receiving unit as it named itself
    until date,                        -- held / kept: the end date
    happened_at timestamp not null,
    actor varchar not null
);
create index archive_events_student on archive_events (student_id);
