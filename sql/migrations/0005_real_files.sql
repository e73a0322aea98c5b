-- Real files from the national system and school platforms (issue #14).

-- 转递编号: the archive transfer number the national system gives a registration; receiving
-- units verify by 姓名 + 转递编号, and offices print it on the 档案转递单.
alter table registrations add column transfer_number varchar;

-- The 毕业去向 name as the file gave it (签约中, 拟参加公招考试 …): several names share one code.
alter table destinations add column destination_name varchar;

-- 院校代码: the school's five digits in every 核验编号 (24 + 10001 + 8 characters).
alter table campaigns add column school_code varchar;

-- A roster without the hukou column says nothing about hukou: unknown (null), not "not at
-- the school".
alter table graduates alter column is_hukou_at_school drop not null;
alter table graduates alter column is_hukou_at_school drop default;
