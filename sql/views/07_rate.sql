-- A rate: a count over the graduates it is a share of, the one way every statistics query
-- writes it. DuckDB divides as floats, so 0 of 0 graduates gives NaN (an empty selection);
-- pipelines/statistics.py `rate` writes the same for totals summed in Python.
create or replace macro rate(count_, graduates_) as
    count_ / graduates_;
