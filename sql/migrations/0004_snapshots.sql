-- Real history (issue #7): one snapshot of the stage counts per day, per cohort, college and
-- transfer type, taken by `dangan snapshot` (a daily cron). Trend charts read these rows rather
-- than reconstructing the past; a day is written once and never changed.

create table stage_snapshots (
    snapshot_day date not null,
    cohort integer not null,
    college_name varchar not null,
    transfer_type varchar not null,         -- '' for graduates with no registration
    graduates bigint not null,
    registered bigint not null,
    pending_college bigint not null,
    pending_school bigint not null,
    returned bigint not null,
    approved bigint not null,
    confirmed bigint not null,
    verified bigint not null,
    placed bigint not null,                 -- 毕业去向已落实 (单位就业、自主创业、自由职业、升学)
    taken_at timestamp not null,
    primary key (snapshot_day, cohort, college_name, transfer_type)
);
