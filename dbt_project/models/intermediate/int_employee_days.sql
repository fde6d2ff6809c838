{#
    One row per employee-day with at least one entry: the day's entries (all statuses)
    aggregated. Hours sums use counted entries only (submitted or approved), the hours that
    would be paid or billed. Employee attributes come from the processed enrichment.
#}
with timesheet_entries as (

    select * from {{ ref('stg_timesheet_entries') }}

),

submission_batches as (

    select * from {{ ref('int_submission_batches') }}

),

approval_pairs as (

    select * from {{ ref('int_approval_pairs') }}

),

entries_in_context as (

    select
        timesheet_entries.*,
        coalesce(submission_batches.work_dates_in_batch, 0) as work_dates_in_batch,
        case
            when approval_pairs.approver_id is not null then true else false
        end as is_reciprocal_approval
    from timesheet_entries
    left join submission_batches
        on timesheet_entries.is_counted
        and submission_batches.employee_id = timesheet_entries.employee_id
        and submission_batches.submitted_date = cast(timesheet_entries.submitted_at as date)
    left join approval_pairs
        on timesheet_entries.is_counted
        and approval_pairs.employee_id = timesheet_entries.employee_id
        and approval_pairs.work_date = timesheet_entries.work_date
        and approval_pairs.approver_id = timesheet_entries.approver_id

),

employee_days as (

    select
        employee_id,
        work_date,
        max(office) as office,
        max(practice) as practice,
        max(grade) as grade,
        max(country_code) as country_code,
        max(contracted_hours_per_week) / 5 as contracted_daily_hours,

        count(*) as entry_count,
        sum(case when is_counted then 1 else 0 end) as counted_entries,
        sum(case when is_counted then hours else 0 end) as total_hours,

        cast(max(coalesce(active_minutes, 0)) as double) / 60 as active_hours,
        max(case when has_activity then 1 else 0 end) = 1 as has_activity,
        -- first to last activity seen; null without activity or on partitions processed
        -- before the column existed
        cast(max(presence_minutes) as double) / 60 as presence_hours,

        sum(case when is_counted and is_on_leave then hours else 0 end) as leave_hours,
        sum(case when is_counted and is_holiday then hours else 0 end) as holiday_hours,
        sum(case when is_counted and is_weekend then hours else 0 end) as weekend_hours,
        sum(case when is_counted and not is_assigned then hours else 0 end)
            as unassigned_hours,
        sum(case when is_counted and not is_project_open then hours else 0 end)
            as closed_project_hours,
        sum(case when is_counted and is_post_termination then hours else 0 end)
            as post_termination_hours,
        sum(case when is_duplicate_line then 1 else 0 end) as duplicate_lines,

        max(case when is_counted then submission_lag_days end) as max_submission_lag_days,
        max(case when is_counted then work_dates_in_batch end) as days_submitted_same_batch,
        avg(case when is_counted then approval_lag_hours end) as avg_approval_lag_hours,
        sum(case when is_counted and is_self_approved then hours else 0 end)
            as self_approved_hours,
        sum(case when is_counted and is_reciprocal_approval then hours else 0 end)
            as reciprocal_approval_hours,
        -- approved lines last changed more than an hour after their approval: the change was
        -- never approved (an approval or re-approval stamps updated_at itself). Visible in
        -- any single extract, unlike the entry history's before/after values.
        sum(
            case
                when is_counted and status = 'approved' and approved_at is not null
                    and updated_at > {{ dbt.dateadd('hour', 1, 'approved_at') }}
                    then hours
                else 0
            end
        ) as changed_after_approval_hours,
        sum(case when is_counted and hours = floor(hours) then 1 else 0 end)
            as round_hour_entries,

        sum(case when status = 'rejected' then 1 else 0 end) as rejected_entries,
        sum(case when status = 'withdrawn' then 1 else 0 end) as withdrawn_entries

    from entries_in_context
    group by employee_id, work_date

)

select * from employee_days
