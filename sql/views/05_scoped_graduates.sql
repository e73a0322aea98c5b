-- The roster rows the acting user may see. Scope comes from getvariable('scope_colleges') (the
-- colleges the user may see) and getvariable('scope_student') (a graduate sees only their own
-- row), set by the store on every connection: NULL means all.
-- Every view and query that shows graduates starts here.
--
-- `among_students` narrows the stage views to a few graduates when the store sets
-- getvariable('only_students') (the refresh after a review decision); NULL, as everywhere
-- else, folds away and costs nothing.
create or replace macro among_students(student_id_) as
    getvariable('only_students') is null or list_contains(getvariable('only_students'), student_id_);

-- Scope, written once: every row with a college and a graduate passes `in_scope`; rows that
-- sum graduates (counts, snapshots) pass `in_scope(college_name, null)`, which no graduate's
-- scope admits; `in_college_scope` alone serves what a graduate may see as well (no person in it).
create or replace macro in_college_scope(college_) as
    getvariable('scope_colleges') is null or list_contains(getvariable('scope_colleges'), college_);

create or replace macro in_scope(college_, student_) as
    in_college_scope(college_)
    and (getvariable('scope_student') is null or student_ = getvariable('scope_student'));

create or replace view scoped_graduates as
select *
from graduates
where in_scope(college_name, student_id)
    and among_students(student_id)
