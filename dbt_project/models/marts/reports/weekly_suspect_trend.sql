{#
    Per ISO week (starting Monday) and practice: flagged days and suspect hours, and how
    both moved against the previous week. Rebuilt whole on every run: weeks straddle daily
    partitions and each week needs the one before it.
#}
{{ config(materialized='table') }}

with features as (

    select * from {{ ref('employee_day_features') }}

),

scores as (

    select * from {{ ref('stg_timesheet_scores') }}

),

scored_days as (

    select
        cast({{ dbt.date_trunc('week', 'features.work_date') }} as date) as week_start,
        features.practice,
        features.total_hours,
        coalesce(scores.is_suspect, false) as is_suspect
    from features
    left join scores
        on scores.employee_id = features.employee_id
        and scores.work_date = features.work_date

),

weekly as (

    select
        week_start,
        practice,
        count(*) as employee_days,
        cast(sum(case when is_suspect then 1 else 0 end) as bigint) as flagged_days,
        round(cast(sum(case when is_suspect then total_hours else 0 end) as double), 6)
            as suspect_hours
    from scored_days
    group by week_start, practice

),

weekly_trend as (

    select
        this_week.week_start,
        this_week.practice,
        this_week.employee_days,
        this_week.flagged_days,
        this_week.suspect_hours,
        coalesce(previous_week.flagged_days, 0) as previous_flagged_days,
        coalesce(previous_week.suspect_hours, 0) as previous_suspect_hours,
        this_week.flagged_days - coalesce(previous_week.flagged_days, 0)
            as flagged_days_change,
        this_week.suspect_hours - coalesce(previous_week.suspect_hours, 0)
            as suspect_hours_change
    from weekly as this_week
    left join weekly as previous_week
        on previous_week.practice = this_week.practice
        and previous_week.week_start
            = cast({{ dbt.dateadd('day', -7, 'this_week.week_start') }} as date)

)

select * from weekly_trend
