-- The dimensions a statistic can be broken down by (统计分析, exports): one raw key per
-- graduate. Labels (转递类型、学历层次、去向类别 names) are added in pipelines/statistics.py.
create or replace macro stats_dimension(dimension_, college_name_, major_, class_name_, transfer_type_,
                                        origin_province_, education_level_, gender_, category_) as
    case dimension_
        when 'college' then college_name_
        when 'major' then major_
        when 'class' then class_name_
        when 'transfer_type' then transfer_type_
        when 'origin_province' then origin_province_
        when 'education_level' then education_level_
        when 'gender' then gender_
        when 'destination_category' then category_
        else '全部'
    end;

-- 毕业去向落实: destination_category (03_destination_codes.sql).
