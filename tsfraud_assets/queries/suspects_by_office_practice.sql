-- Flagged employee-days per office and practice over a date range, with the share of days
-- flagged and the hours on flagged days: where to send investigators, and whether one
-- office or practice is flagged out of proportion to its size.
-- @param start_date date default today-30  First work date (default: 30 days ago).
-- @param end_date date default today  Last work date, inclusive (default: today).
select
    office,
    practice,
    cast(count(distinct work_date) as bigint) as work_days,
    cast(sum(employee_days) as bigint) as employee_days,
    cast(sum(flagged_days) as bigint) as flagged_days,
    round(cast(sum(flagged_days) as double) / sum(employee_days), 6) as flag_rate,
    round(cast(sum(suspect_hours) as double), 2) as suspect_hours
from {{ ref('daily_suspect_summary') }}
where work_date between :start_date and :end_date
group by office, practice
order by flagged_days desc, office, practice
