-- 毕业去向 codes (pipelines/codes.py, copied into ref_destination_codes). A three-digit code
-- the table does not list still belongs to its class, its first two digits: the national system
-- issues sub-codes we may not know yet, and 落实率 must count them.

-- The category for 毕业去向落实率, 'no_destination' when none is on record. Placed =
-- employed + entrepreneur + freelance + further_study.
create or replace macro destination_category(code_) as
    coalesce((select category from ref_destination_codes where code = code_),
             (select category from ref_destination_codes where code = left(code_, 2) and length(code_) = 3),
             case when code_ is null then 'no_destination' else 'not_placed' end);

-- The name shown: the table's, else the class's with the code (其他地方基层项目, 待就业（704）).
create or replace macro destination_label(code_) as
    coalesce((select name from ref_destination_codes where code = code_),
             (select name || '（' || code_ || '）' from ref_destination_codes where code = left(code_, 2) and length(code_) = 3),
             code_);
