-- The roster rows the acting user may see. Scope (the colleges the user may see) comes from
-- getvariable('scope_colleges'), set by the store on every connection: NULL means all.
-- Every view and query that shows graduates starts here.
--
-- `among_students` narrows the stage views to a few graduates when the store sets
-- getvariable('only_students') (the refresh after a review decision); NULL, as everywhere
-- else, folds away and costs nothing.
create or replace macro among_students(student_id_) as
    getvariable('only_students') is null or list_contains(getvariable('only_students'), student_id_);

create or replace view scoped_graduates as
select *
from graduates
where (getvariable('scope_colleges') is null
    or list_contains(getvariable('scope_colleges'), college_name))
    and among_students(student_id)
