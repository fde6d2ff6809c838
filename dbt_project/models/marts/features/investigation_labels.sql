{#
    The labels for training and evaluation: closed investigation cases, one per
    employee-day. When a day was investigated more than once, the most recently closed
    case decides (a re-opened and re-closed case supersedes the earlier verdict).
#}
with investigation_cases as (

    select * from {{ ref('stg_investigation_cases') }}

),

closed_cases as (

    select
        *,
        row_number() over (
            partition by employee_id, work_date
            order by closed_at desc, case_id desc
        ) as closed_recency
    from investigation_cases
    where closed_at is not null
        and outcome in ('confirmed', 'cleared')

),

investigation_labels as (

    select
        employee_id,
        work_date,
        outcome,
        fraud_type,
        opened_at,
        closed_at
    from closed_cases
    where closed_recency = 1

)

select * from investigation_labels
