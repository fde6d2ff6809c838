{#
    Processed timesheet entries with explicit types (Hive partition values and Parquet
    logical types differ between readers).

    With a window (TSFRAUD_DBT_MIN_DATE/MAX_DATE), restricted to the window widened by 63 days
    back and 35 ahead, so a window run computes what a run over all data would (the marts keep
    only the window):
    - back: the 28-day baselines and reciprocal approvals of the window's first day, and the
      padding habit (int_padding_habits), which counts days in the 28 before whose own 28-day
      activity baseline reaches 56 days back;
    - ahead: a submission batch holding a window day also holds the later work dates
      submitted with it (a weekly timesheet sent on Friday covers Monday to Friday).
#}
with source as (

    {{ lake_source('processed_timesheet_entries') }}

),

typed as (

    select
        cast(entry_id as bigint) as entry_id,
        cast(employee_id as bigint) as employee_id,
        cast(project_id as bigint) as project_id,
        cast(work_date as date) as work_date,
        cast(hours as double) as hours,
        cast(activity_code as varchar) as activity_code,
        cast(comment as varchar) as comment,
        cast(entry_channel as varchar) as entry_channel,
        cast(status as varchar) as status,
        cast(submitted_at as timestamp) as submitted_at,
        cast(approved_at as timestamp) as approved_at,
        cast(updated_at as timestamp) as updated_at,
        cast(approver_id as bigint) as approver_id,
        cast(is_counted as boolean) as is_counted,
        cast(employee_code as varchar) as employee_code,
        cast(country_code as varchar) as country_code,
        cast(office as varchar) as office,
        cast(practice as varchar) as practice,
        cast(grade as varchar) as grade,
        cast(manager_id as bigint) as manager_id,
        cast(hire_date as date) as hire_date,
        cast(termination_date as date) as termination_date,
        cast(contracted_hours_per_week as double) as contracted_hours_per_week,
        cast(project_code as varchar) as project_code,
        cast(project_type as varchar) as project_type,
        cast(project_status as varchar) as project_status,
        cast(client_id as bigint) as client_id,
        cast(is_assigned as boolean) as is_assigned,
        cast(is_project_open as boolean) as is_project_open,
        cast(is_on_leave as boolean) as is_on_leave,
        cast(leave_type as varchar) as leave_type,
        cast(is_holiday as boolean) as is_holiday,
        cast(is_weekend as boolean) as is_weekend,
        cast(is_post_termination as boolean) as is_post_termination,
        cast(submission_lag_days as integer) as submission_lag_days,
        cast(approval_lag_hours as double) as approval_lag_hours,
        cast(is_self_approved as boolean) as is_self_approved,
        cast(is_manager_approved as boolean) as is_manager_approved,
        cast(active_minutes as integer) as active_minutes,
        cast(has_activity as boolean) as has_activity,
        -- null on partitions processed before the column existed (read by name): unknown
        cast(presence_minutes as integer) as presence_minutes,
        cast(day_counted_hours as double) as day_counted_hours,
        cast(day_entry_count as integer) as day_entry_count,
        cast(is_duplicate_line as boolean) as is_duplicate_line

    from source
    where {{ work_date_in_window('cast(work_date as date)', lookback_days=63, lookahead_days=35) }}

)

select * from typed
