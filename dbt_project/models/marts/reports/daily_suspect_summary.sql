{#
    Per work_date, office, practice and country: how many employee-days there were, how
    many the model flagged, the hours on flagged days and the mean score. Built from the
    features so that days nobody flagged still count in the denominator.
#}
{{ config(**incremental_by_work_date_config(['work_date', 'office', 'practice', 'country_code'])) }}

with features as (

    select * from {{ ref('employee_day_features') }}
    where {{ work_date_in_window('work_date') }}

),

scores as (

    select * from {{ ref('stg_timesheet_scores') }}
    where {{ work_date_in_window('work_date') }}

),

scored_days as (

    select
        features.work_date,
        features.office,
        features.practice,
        features.country_code,
        features.total_hours,
        scores.fraud_score,
        coalesce(scores.is_suspect, false) as is_suspect
    from features
    left join scores
        on scores.employee_id = features.employee_id
        and scores.work_date = features.work_date

),

daily_summary as (

    select
        office,
        practice,
        country_code,
        count(*) as employee_days,
        count(fraud_score) as scored_days,
        cast(sum(case when is_suspect then 1 else 0 end) as bigint) as flagged_days,
        round(cast(sum(case when is_suspect then total_hours else 0 end) as double), 6)
            as suspect_hours,
        round(avg(fraud_score), 6) as avg_fraud_score,
        work_date
    from scored_days
    group by work_date, office, practice, country_code

)

select * from daily_summary
