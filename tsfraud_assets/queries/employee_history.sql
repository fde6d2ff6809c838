-- One employee's days over a date range, newest first: hours booked against contract and
-- workstation activity, how many hand-written rules fired, the model's score, rank and flag,
-- and the outcome of any closed investigation of the day.
-- @param employee_id bigint  The employee (employee_id, as in the suspect lists).
-- @param start_date date default today-90  First work date (default: 90 days ago).
-- @param end_date date default today  Last work date, inclusive (default: today).
select
    features.work_date,
    features.employee_id,
    features.office,
    features.practice,
    features.grade,
    features.total_hours,
    features.contracted_daily_hours,
    features.active_hours,
    features.rule_flag_count,
    scores.fraud_score,
    scores.rank,
    coalesce(scores.is_suspect, false) as is_suspect,
    scores.reasons,
    labels.outcome as investigation_outcome,
    labels.fraud_type as investigation_fraud_type
from {{ ref('employee_day_features') }} as features
left join {{ ref('stg_timesheet_scores') }} as scores
    on scores.employee_id = features.employee_id
    and scores.work_date = features.work_date
    and scores.work_date between :start_date and :end_date
left join {{ ref('investigation_labels') }} as labels
    on labels.employee_id = features.employee_id
    and labels.work_date = features.work_date
    and labels.work_date between :start_date and :end_date
where features.employee_id = :employee_id
    and features.work_date between :start_date and :end_date
order by features.work_date desc
