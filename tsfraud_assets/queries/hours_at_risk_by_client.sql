-- Hours at risk per client over a date range: counted hours booked on the days the model
-- flagged, by the client of the project they were booked to (internal, bench and training
-- projects have no client and appear per project type). Reads the daily_client_hours mart,
-- which keeps every work date the pipeline has built, so any range works.
-- @param start_date date default today-30  First work date (default: 30 days ago).
-- @param end_date date default today  Last work date, inclusive (default: today).
with suspects as (

    select employee_id, work_date
    from {{ ref('suspect_timesheets') }}
    where work_date between :start_date and :end_date

),

client_hours as (

    select employee_id, work_date, client_id, project_type, counted_hours
    from {{ ref('daily_client_hours') }}
    where work_date between :start_date and :end_date

),

client_days as (

    select
        client_hours.client_id,
        client_hours.project_type,
        client_hours.employee_id,
        client_hours.work_date,
        client_hours.counted_hours as hours
    from client_hours
    inner join suspects
        on suspects.employee_id = client_hours.employee_id
        and suspects.work_date = client_hours.work_date

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
