{#
    The investigators' list as the review app shows it: every flagged employee-day with who,
    where, whose team, the list version it belongs to (model_version, scored_at: what a
    verdict is keyed to) and the day's booked vs active hours. A view over the scores'
    Parquet files, so a re-scored day shows at once.
#}
{{ config(materialized='view', tags=['reports']) }}

with scores as (

    {{ lake_source('timesheet_scores') }}

),

employees as (

    select * from {{ ref('stg_employees') }}

),

features as (

    select * from {{ ref('employee_day_features') }}

)

select
    cast(scores.employee_id as bigint) as employee_id,
    employees.employee_code,
    employees.office,
    employees.practice,
    employees.grade,
    managers.employee_code as manager_code,
    cast(scores.work_date as date) as work_date,
    cast(scores.fraud_score as double) as fraud_score,
    cast(scores.rank as integer) as rank,
    cast(scores.reasons as varchar) as reasons,
    cast(scores.model_version as varchar) as model_version,
    cast(scores.scored_at as timestamp) as scored_at,
    cast(scores.previous_score as double) as previous_score,
    cast(scores.score_changed as boolean) as score_changed,
    features.total_hours,
    features.active_hours,
    features.entry_count
from scores
left join employees
    on employees.employee_id = scores.employee_id
left join employees as managers
    on managers.employee_id = employees.manager_id
left join features
    on features.employee_id = scores.employee_id
    and features.work_date = cast(scores.work_date as date)
where scores.is_suspect
