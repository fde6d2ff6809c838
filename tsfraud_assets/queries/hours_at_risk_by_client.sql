-- Hours at risk per client over a date range: counted hours booked on the days the model
-- flagged, by the client of the project they were booked to (internal, bench and training
-- projects have no client and appear per project type). No mart carries the client, so
-- this reads the staging view of processed entries, which holds only the work dates of the
-- last dbt run's window widened by 35 days each way: ask for recent ranges.
-- @param start_date date default today-30  First work date (default: 30 days ago).
-- @param end_date date default today  Last work date, inclusive (default: today).
with suspects as (

    select employee_id, work_date
    from {{ ref('suspect_timesheets') }}
    where work_date between :start_date and :end_date

),

entries as (

    select employee_id, work_date, client_id, project_type, hours
    from {{ ref('stg_timesheet_entries') }}
    where is_counted
        and work_date between :start_date and :end_date

),

client_days as (

    select
        entries.client_id,
        entries.project_type,
        entries.employee_id,
        entries.work_date,
        sum(entries.hours) as hours
    from entries
    inner join suspects
        on suspects.employee_id = entries.employee_id
        and suspects.work_date = entries.work_date
    group by entries.client_id, entries.project_type, entries.employee_id, entries.work_date

)

select
    client_id,
    project_type,
    cast(count(*) as bigint) as suspect_days,
    cast(count(distinct employee_id) as bigint) as employees,
    round(cast(sum(hours) as double), 2) as suspect_hours
from client_days
group by client_id, project_type
order by suspect_hours desc, client_id, project_type
