{#
    One row per employee and submission date (UTC): how many distinct work dates of counted
    time the employee submitted that day. Bulk backdating shows up as one submission date
    covering many work dates.
#}
with timesheet_entries as (

    select * from {{ ref('stg_timesheet_entries') }}

),

counted_submissions as (

    select
        employee_id,
        cast(submitted_at as date) as submitted_date,
        work_date
    from timesheet_entries
    where is_counted
        and submitted_at is not null

),

submission_batches as (

    select
        employee_id,
        submitted_date,
        count(distinct work_date) as work_dates_in_batch
    from counted_submissions
    group by employee_id, submitted_date

)

select * from submission_batches
