{#
    The investigators' work list: every employee-day the model marked as suspect, with who
    and where, the booked hours and the model's reasons. Rewritten per work_date window.
#}
{{ config(**incremental_by_work_date_config(['employee_id', 'work_date'])) }}

with scores as (

    select * from {{ ref('stg_timesheet_scores') }}
    where is_suspect
        and {{ work_date_in_window('work_date') }}

),

features as (

    select * from {{ ref('employee_day_features') }}
    where {{ work_date_in_window('work_date') }}

),

employees as (

    select * from {{ ref('stg_employees') }}

),

suspect_timesheets as (

    select
        scores.employee_id,
        employees.employee_code,
        features.office,
        features.practice,
        features.grade,
        features.country_code,
        features.total_hours,
        scores.reasons,
        scores.fraud_score,
        scores.rank,
        scores.model_version,
        scores.work_date
    from scores
    left join features
        on features.employee_id = scores.employee_id
        and features.work_date = scores.work_date
    left join employees
        on employees.employee_id = scores.employee_id

)

select * from suspect_timesheets
