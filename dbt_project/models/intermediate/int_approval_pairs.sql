{#
    Reciprocal approvals: one row per (employee, work_date, approver) where the approver B
    approved counted time of employee A on that date, and A approved counted time of B
    dated within the trailing 28 days (work_date - 28 .. work_date). Self-approval is a
    separate signal and excluded here; a manager approving a report's time is not
    reciprocal unless the report also approves the manager's time.
#}
with timesheet_entries as (

    select * from {{ ref('stg_timesheet_entries') }}

),

approvals as (

    select distinct
        employee_id,
        approver_id,
        work_date
    from timesheet_entries
    where is_counted
        and approver_id is not null
        and approver_id <> employee_id

),

reciprocal_approvals as (

    select distinct
        approved.employee_id,
        approved.work_date,
        approved.approver_id
    from approvals as approved
    inner join approvals as returned_favour
        on returned_favour.employee_id = approved.approver_id
        and returned_favour.approver_id = approved.employee_id
        and {{
            in_trailing_window(
                'returned_favour.work_date', 'approved.work_date', include_day=true
            )
        }}

)

select * from reciprocal_approvals
