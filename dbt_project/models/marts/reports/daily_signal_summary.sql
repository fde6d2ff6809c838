{#
    Per work_date: on how many employee-days each hand-written rule fired, and how many of
    those the model flagged as suspect. Shows which rules the model agrees with and which
    it has learned to discount.
#}
{{ config(**incremental_by_work_date_config(['work_date'])) }}

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
        features.*,
        coalesce(scores.is_suspect, false) as is_suspect
    from features
    left join scores
        on scores.employee_id = features.employee_id
        and scores.work_date = features.work_date

),

signal_summary as (

    select
        count(*) as employee_days,
        cast(sum(case when is_suspect then 1 else 0 end) as bigint) as suspect_days,
        {%- for rule in fraud_rules() %}
        cast(sum(case when {{ rule.condition }} then 1 else 0 end) as bigint)
            as {{ rule.name }}_days,
        cast(sum(case when is_suspect and {{ rule.condition }} then 1 else 0 end) as bigint)
            as {{ rule.name }}_suspect_days,
        {%- endfor %}
        work_date
    from scored_days
    group by work_date

)

select * from signal_summary
