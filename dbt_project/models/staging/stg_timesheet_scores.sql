with source as (

    {{ lake_source('timesheet_scores') }}

),

typed as (

    select
        cast(employee_id as bigint) as employee_id,
        cast(work_date as date) as work_date,
        cast(fraud_score as double) as fraud_score,
        cast(rank as integer) as rank,
        cast(is_suspect as boolean) as is_suspect,
        cast(reasons as varchar) as reasons,
        cast(model_version as varchar) as model_version

    from source

)

select * from typed
