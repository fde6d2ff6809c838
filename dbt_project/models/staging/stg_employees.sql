with source as (

    {{ lake_source('raw_employees') }}

),

typed as (

    select
        cast(employee_id as bigint) as employee_id,
        cast(employee_code as varchar) as employee_code,
        cast(country_code as varchar) as country_code,
        cast(office as varchar) as office,
        cast(practice as varchar) as practice,
        cast(grade as varchar) as grade,
        cast(manager_id as bigint) as manager_id,
        cast(hire_date as date) as hire_date,
        cast(termination_date as date) as termination_date,
        cast(contracted_hours_per_week as double) as contracted_hours_per_week,
        cast(updated_at as timestamp) as updated_at

    from source

)

select * from typed
