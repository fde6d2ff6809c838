{#
    Approver behaviour against the approver's own habit: one row per employee-day with the
    counted hours approved by someone else within an hour of submission *and* in under a
    quarter of that approver's own median approval time for other people's days over the 28
    days before (at least five such days needed). Rubber-stamping a colleague's time is fast
    for that colleague only; an approver who always approves within the hour is not flagged
    (their median is fast too), nor is self-approval (its own signal).
#}
with timesheet_entries as (

    select * from {{ ref('stg_timesheet_entries') }}

),

approvals as (

    select
        employee_id,
        approver_id,
        work_date,
        approval_lag_hours,
        hours
    from timesheet_entries
    where is_counted
        and approver_id is not null
        and approver_id <> employee_id
        and approval_lag_hours is not null

),

approver_days as (

    select
        approver_id,
        employee_id,
        work_date,
        avg(approval_lag_hours) as approval_lag_hours
    from approvals
    group by approver_id, employee_id, work_date

),

approver_norms as (

    select
        approved.approver_id,
        approved.employee_id,
        approved.work_date,
        count(history.approval_lag_hours) as approver_days_28d,
        {{ median('history.approval_lag_hours') }} as approver_median_lag_hours
    from approver_days as approved
    left join approver_days as history
        on history.approver_id = approved.approver_id
        and history.employee_id <> approved.employee_id
        and {{ in_trailing_window('history.work_date', 'approved.work_date') }}
    group by approved.approver_id, approved.employee_id, approved.work_date

),

rushed as (

    select
        approvals.employee_id,
        approvals.work_date,
        sum(approvals.hours) as rushed_approval_hours
    from approvals
    inner join approver_norms
        on approver_norms.approver_id = approvals.approver_id
        and approver_norms.employee_id = approvals.employee_id
        and approver_norms.work_date = approvals.work_date
    where approver_norms.approver_days_28d >= 5
        and approvals.approval_lag_hours < 1
        and approvals.approval_lag_hours < 0.25 * approver_norms.approver_median_lag_hours
    group by approvals.employee_id, approvals.work_date

)

select * from rushed
