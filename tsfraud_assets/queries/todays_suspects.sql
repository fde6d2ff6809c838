-- The day's work list: every employee-day the model flagged on one work date, most suspect
-- first, with who and where, the hours booked and the model's reasons.
-- @param day date  Work date of the list (YYYY-MM-DD).
select
    work_date,
    rank,
    employee_id,
    employee_code,
    office,
    practice,
    grade,
    country_code,
    total_hours,
    fraud_score,
    reasons,
    model_version
from {{ ref('suspect_timesheets') }}
where work_date = :day
order by rank, employee_id
