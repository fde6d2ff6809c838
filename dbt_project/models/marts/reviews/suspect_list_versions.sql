{#
    The flagged rows of every earlier version of each day's list (archived when a re-score
    replaced it), so the review page can say what changed since the version before. A view
    over the archive's files.
#}
{{ config(materialized='view', tags=['reports']) }}

with versions as (

    {{ lake_source('timesheet_score_versions') }}

),

employees as (

    select * from {{ ref('stg_employees') }}

)

select
    cast(versions.employee_id as bigint) as employee_id,
    employees.employee_code,
    cast(versions.work_date as date) as work_date,
    cast(versions.fraud_score as double) as fraud_score,
    cast(versions.rank as integer) as rank,
    cast(versions.model_version as varchar) as model_version,
    cast(versions.scored_at as timestamp) as scored_at
from versions
left join employees
    on employees.employee_id = versions.employee_id
where versions.is_suspect
