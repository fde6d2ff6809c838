{#
    Per work_date, employee, client and project type: the counted hours (submitted or
    approved entries). The one mart that keeps the client each hour was booked to: the staging
    view of entries holds only the last run's window, this keeps every day ever built, so
    client questions (the named query hours_at_risk_by_client) work for any date range.
    Internal, bench and training projects have no client: client_id is null for them and
    project_type tells them apart.
#}
{{ config(**incremental_by_work_date_config(['work_date', 'employee_id', 'client_id', 'project_type'])) }}

with entries as (

    select * from {{ ref('stg_timesheet_entries') }}
    where is_counted
        and {{ work_date_in_window('work_date') }}

),

client_hours as (

    select
        employee_id,
        client_id,
        project_type,
        round(cast(sum(hours) as double), 6) as counted_hours,
        cast(count(*) as bigint) as counted_entries,
        work_date
    from entries
    group by work_date, employee_id, client_id, project_type

)

select * from client_hours
