-- Every employee-day must belong to a known employee: the reports join employee attributes
-- and investigators need the employee_code.
-- Reads the employees snapshot through its source, not stg_employees: with a second model
-- parent, `dbt build --select stg_employees` (the unpartitioned reference run, before any
-- features exist) would pick this test up indirectly and fail on the missing mart.
{{
    config(
        tags=['features'],
        meta={'dagster': {'ref': {'name': 'employee_day_features'}}},
    )
}}

with employees as (

    select cast(employee_id as bigint) as employee_id
    from {{ source('lake', 'raw_employees') }}

)

select
    features.employee_id,
    features.work_date
from {{ ref('employee_day_features') }} as features
left join employees
    on employees.employee_id = features.employee_id
where employees.employee_id is null
