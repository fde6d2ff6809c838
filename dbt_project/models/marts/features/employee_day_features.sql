{#
    The model's input: one row per employee-day with at least one entry, every numeric
    column non-null (0 when not applicable). Kept incrementally by work_date: a run with
    TSFRAUD_DBT_MIN_DATE/MAX_DATE rewrites exactly those days (staging reads 63 days before and
    35 after, for the rolling baselines, the padding habit and submission batches). work_date is the last column because Athena's partitioned tables
    need the partition column last. Doubles are rounded to 6 decimals: parallel aggregation
    adds floats in varying order, and the last bits must not change between identical runs
    (the model's data fingerprint, the idempotency of re-runs).
    The six revision columns (revision_count ... reapproved_by_other) come from the entry
    history (int_entry_revisions): 0 on days the history saw no change after approval.
#}
{{ config(**incremental_by_work_date_config(['employee_id', 'work_date'])) }}

with employee_days as (

    select * from {{ ref('int_employee_days') }}
    where {{ work_date_in_window('work_date') }}

),

baselines as (

    select * from {{ ref('int_employee_day_baselines') }}

),

peer_groups as (

    select * from {{ ref('int_peer_groups') }}

),

revisions as (

    -- changes the entry history saw after approval (a view, already cut to the run's window);
    -- an employee-day the history never saw revised has no row: zeros below
    select * from {{ ref('int_entry_revisions') }}

),

activity_baselines as (

    select * from {{ ref('int_activity_baselines') }}

),

rushed_approvals as (

    select * from {{ ref('int_rushed_approvals') }}

),

cosubmissions as (

    select * from {{ ref('int_cosubmissions') }}

),

padding_habits as (

    select * from {{ ref('int_padding_habits') }}

),

day_features as (

    select
        employee_days.employee_id,
        employee_days.work_date,
        employee_days.office,
        employee_days.practice,
        employee_days.grade,
        employee_days.country_code,
        employee_days.total_hours,
        employee_days.entry_count,
        employee_days.contracted_daily_hours,
        employee_days.total_hours - employee_days.contracted_daily_hours
            as hours_over_contracted,
        coalesce(baselines.median_hours_28d, employee_days.contracted_daily_hours)
            as own_median_hours_28d,
        coalesce(peer_groups.peer_mean_hours, employee_days.contracted_daily_hours)
            as peer_mean_hours,
        employee_days.active_hours,
        employee_days.total_hours - employee_days.active_hours as hours_minus_active,
        case
            when employee_days.has_activity then 0 else employee_days.total_hours
        end as no_activity_hours,
        employee_days.leave_hours,
        employee_days.holiday_hours,
        employee_days.weekend_hours,
        employee_days.unassigned_hours,
        employee_days.closed_project_hours,
        employee_days.post_termination_hours,
        employee_days.duplicate_lines,
        coalesce(employee_days.max_submission_lag_days, 0) as max_submission_lag_days,
        coalesce(employee_days.days_submitted_same_batch, 0) as days_submitted_same_batch,
        coalesce(employee_days.avg_approval_lag_hours, 0) as avg_approval_lag_hours,
        employee_days.self_approved_hours,
        employee_days.reciprocal_approval_hours,
        case
            when employee_days.counted_entries > 0
                then cast(employee_days.round_hour_entries as double)
                    / employee_days.counted_entries
            else 0
        end as round_hour_share,
        coalesce(baselines.stddev_hours_28d, 0) as hours_stddev_28d,
        employee_days.rejected_entries,
        employee_days.withdrawn_entries,
        coalesce(revisions.revision_count, 0) as revision_count,
        coalesce(revisions.hours_raised_after_approval, 0) as hours_raised_after_approval,
        coalesce(revisions.hours_added_after_approval, 0) as hours_added_after_approval,
        coalesce(revisions.project_changed_after_approval, 0)
            as project_changed_after_approval,
        coalesce(revisions.deleted_after_approval, 0) as deleted_after_approval,
        coalesce(revisions.reapproved_by_other, 0) as reapproved_by_other,
        coalesce(activity_baselines.own_activity_ratio_28d, 0) as own_activity_ratio_28d,
        {{ hours_beyond_own_activity(
            'employee_days.total_hours',
            'employee_days.active_hours',
            'employee_days.has_activity',
            'activity_baselines.own_activity_ratio_28d',
        ) }} as hours_beyond_own_activity,
        coalesce(rushed_approvals.rushed_approval_hours, 0) as rushed_approval_hours,
        coalesce(cosubmissions.cosubmitted_days_28d, 0) as cosubmitted_days_28d,
        coalesce(activity_baselines.activity_noise_28d, 0) as activity_noise_28d,
        employee_days.changed_after_approval_hours,
        -- claimed hours beyond the span from first to last activity seen (0 without one)
        case
            when employee_days.presence_hours is not null
                then greatest(employee_days.total_hours - employee_days.presence_hours, 0)
            else 0
        end as hours_beyond_presence,
        coalesce(activity_baselines.own_presence_gap_28d, 0) as usual_hours_beyond_presence_28d,
        coalesce(padding_habits.padding_shape_days_28d, 0) as padding_shape_days_28d
    from employee_days
    left join baselines
        on baselines.employee_id = employee_days.employee_id
        and baselines.work_date = employee_days.work_date
    left join peer_groups
        on peer_groups.employee_id = employee_days.employee_id
        and peer_groups.work_date = employee_days.work_date
    left join revisions
        on revisions.employee_id = employee_days.employee_id
        and revisions.work_date = employee_days.work_date
    left join activity_baselines
        on activity_baselines.employee_id = employee_days.employee_id
        and activity_baselines.work_date = employee_days.work_date
    left join rushed_approvals
        on rushed_approvals.employee_id = employee_days.employee_id
        and rushed_approvals.work_date = employee_days.work_date
    left join cosubmissions
        on cosubmissions.employee_id = employee_days.employee_id
        and cosubmissions.work_date = employee_days.work_date
    left join padding_habits
        on padding_habits.employee_id = employee_days.employee_id
        and padding_habits.work_date = employee_days.work_date

),

rounded as (

    select
        employee_id,
        office,
        practice,
        grade,
        country_code,
        round(cast(total_hours as double), 6) as total_hours,
        cast(entry_count as bigint) as entry_count,
        round(cast(contracted_daily_hours as double), 6) as contracted_daily_hours,
        round(cast(hours_over_contracted as double), 6) as hours_over_contracted,
        round(cast(own_median_hours_28d as double), 6) as own_median_hours_28d,
        round(cast(total_hours - own_median_hours_28d as double), 6) as hours_vs_own_median,
        round(cast(peer_mean_hours as double), 6) as peer_mean_hours,
        round(cast(total_hours - peer_mean_hours as double), 6) as hours_vs_peer,
        round(cast(active_hours as double), 6) as active_hours,
        round(cast(hours_minus_active as double), 6) as hours_minus_active,
        round(cast(no_activity_hours as double), 6) as no_activity_hours,
        round(cast(leave_hours as double), 6) as leave_hours,
        round(cast(holiday_hours as double), 6) as holiday_hours,
        round(cast(weekend_hours as double), 6) as weekend_hours,
        round(cast(unassigned_hours as double), 6) as unassigned_hours,
        round(cast(closed_project_hours as double), 6) as closed_project_hours,
        round(cast(post_termination_hours as double), 6) as post_termination_hours,
        cast(duplicate_lines as bigint) as duplicate_lines,
        cast(max_submission_lag_days as bigint) as max_submission_lag_days,
        cast(days_submitted_same_batch as bigint) as days_submitted_same_batch,
        round(cast(avg_approval_lag_hours as double), 6) as avg_approval_lag_hours,
        round(cast(self_approved_hours as double), 6) as self_approved_hours,
        round(cast(reciprocal_approval_hours as double), 6) as reciprocal_approval_hours,
        round(cast(round_hour_share as double), 6) as round_hour_share,
        round(cast(hours_stddev_28d as double), 6) as hours_stddev_28d,
        cast(rejected_entries as bigint) as rejected_entries,
        cast(withdrawn_entries as bigint) as withdrawn_entries,
        cast(revision_count as bigint) as revision_count,
        cast(hours_raised_after_approval as bigint) as hours_raised_after_approval,
        round(cast(hours_added_after_approval as double), 6) as hours_added_after_approval,
        cast(project_changed_after_approval as bigint) as project_changed_after_approval,
        cast(deleted_after_approval as bigint) as deleted_after_approval,
        cast(reapproved_by_other as bigint) as reapproved_by_other,
        round(cast(own_activity_ratio_28d as double), 6) as own_activity_ratio_28d,
        round(cast(hours_beyond_own_activity as double), 6) as hours_beyond_own_activity,
        round(cast(rushed_approval_hours as double), 6) as rushed_approval_hours,
        cast(cosubmitted_days_28d as bigint) as cosubmitted_days_28d,
        round(cast(activity_noise_28d as double), 6) as activity_noise_28d,
        round(cast(changed_after_approval_hours as double), 6) as changed_after_approval_hours,
        round(cast(hours_beyond_presence as double), 6) as hours_beyond_presence,
        round(cast(usual_hours_beyond_presence_28d as double), 6)
            as usual_hours_beyond_presence_28d,
        cast(padding_shape_days_28d as bigint) as padding_shape_days_28d,
        work_date
    from day_features

),

final as (

    -- the rules read the rounded values, so a threshold cannot flip on float noise
    select
        employee_id,
        office,
        practice,
        grade,
        country_code,
        total_hours,
        entry_count,
        contracted_daily_hours,
        hours_over_contracted,
        own_median_hours_28d,
        hours_vs_own_median,
        peer_mean_hours,
        hours_vs_peer,
        active_hours,
        hours_minus_active,
        no_activity_hours,
        leave_hours,
        holiday_hours,
        weekend_hours,
        unassigned_hours,
        closed_project_hours,
        post_termination_hours,
        duplicate_lines,
        max_submission_lag_days,
        days_submitted_same_batch,
        avg_approval_lag_hours,
        self_approved_hours,
        reciprocal_approval_hours,
        round_hour_share,
        hours_stddev_28d,
        rejected_entries,
        withdrawn_entries,
        cast({{ rule_flag_count() }} as bigint) as rule_flag_count,
        revision_count,
        hours_raised_after_approval,
        hours_added_after_approval,
        project_changed_after_approval,
        deleted_after_approval,
        reapproved_by_other,
        own_activity_ratio_28d,
        hours_beyond_own_activity,
        rushed_approval_hours,
        cosubmitted_days_28d,
        activity_noise_28d,
        changed_after_approval_hours,
        hours_beyond_presence,
        usual_hours_beyond_presence_28d,
        padding_shape_days_28d,
        work_date
    from rounded

)

select * from final
