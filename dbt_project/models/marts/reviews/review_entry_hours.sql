{#
    Hours per employee, work day and project, with the client's name: what a flag's reasons
    refer to ("9.0 h on P-0042 for Acme"), read from the processed entries. Counted lines
    only (rejected and withdrawn lines book nothing); a view, filtered by work_date.
#}
{{ config(materialized='view', tags=['reports']) }}

with entries as (

    {{ lake_source('processed_timesheet_entries') }}

),

clients as (

    select * from {{ ref('stg_clients') }}

)

select
    cast(entries.employee_id as bigint) as employee_id,
    cast(entries.work_date as date) as work_date,
    entries.project_code,
    entries.project_type,
    clients.client_name,
    cast(sum(entries.hours) as double) as hours,
    count(*) as entry_count,
    max(case when entries.is_assigned then 0 else 1 end) = 1 as has_unassigned_lines
from entries
left join clients
    on clients.client_id = entries.client_id
where entries.is_counted
group by
    entries.employee_id, entries.work_date, entries.project_code, entries.project_type,
    clients.client_name
