-- When a verification report (核验报告) can be used, as of getvariable('as_of'): the one place
-- the rule is written. A report is open until the day it was closed; an open report is unset
-- (未确认) until a validity date is set, then active until that date passes (expired).
-- A report whose confirmation no longer holds is void (its graduate must confirm again): that
-- needs the graduate's current confirmation, so `report_state` takes it as a flag.

create or replace macro report_open(closed_at_) as
    closed_at_ is null or closed_at_ >= getvariable('as_of_end');

-- closed / unset / expired / active (pipelines/rules/verification.py STATUS_LABELS names them).
create or replace macro report_status(closed_at_, valid_until_) as
    case
        when not report_open(closed_at_) then 'closed'
        when valid_until_ is null then 'unset'
        when valid_until_ < getvariable('as_of') then 'expired'
        else 'active'
    end;

-- In force: open with a validity date not yet passed (what makes a confirmed graduate verified).
create or replace macro report_in_force(closed_at_, valid_until_) as
    report_open(closed_at_) and valid_until_ >= getvariable('as_of');

-- Usable: open and not expired; 未确认 counts, it only lacks its date.
create or replace macro report_usable(closed_at_, valid_until_) as
    report_open(closed_at_) and (valid_until_ is null or valid_until_ >= getvariable('as_of'));

-- What a page shows: the status, or 'void' when a usable report's confirmation no longer holds
-- (a closed or expired report stays closed or expired).
create or replace macro report_state(report_status_, is_confirmation_current_) as
    case when report_status_ in ('unset', 'active') and not is_confirmation_current_ then 'void'
        else report_status_ end;
