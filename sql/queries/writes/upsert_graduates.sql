-- New graduates are added, changed ones replaced (the incoming frame has no duplicate 学号).
insert or replace into graduates by name
select * from incoming
