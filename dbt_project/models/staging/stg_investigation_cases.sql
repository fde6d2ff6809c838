with source as (

    {{ lake_source('raw_investigation_cases') }}

),

typed as (

    select
        cast(case_id as bigint) as case_id,
        cast(employee_id as bigint) as employee_id,
        cast(work_date as date) as work_date,
        cast(opened_at as timestamp) as opened_at,
        cast(closed_at as timestamp) as closed_at,
        cast(outcome as varchar) as outcome,
        cast(fraud_type as varchar) as fraud_type,
        cast(updated_at as timestamp) as updated_at

    from source

)

select * from typed
