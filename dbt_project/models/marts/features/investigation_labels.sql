{#
    The labels for training and evaluation, one per employee-day, from two kinds of verdict:
    closed investigation cases from the source system, and the confirmed/cleared verdicts
    investigators record on tsfraud's own list (suspect_dispositions; needs_info decides
    nothing). Each keeps the moment it was decided as closed_at, so training on what was
    known at train_end stays leak-free. When a day has several verdicts, the most recent one
    decides (a re-opened case or a changed mind supersedes the earlier verdict); on a tie the
    source's case wins, it being the formal record.
#}
with investigation_cases as (

    select * from {{ ref('stg_investigation_cases') }}

),

dispositions as (

    select * from {{ ref('suspect_dispositions') }}

),

verdicts as (

    select
        employee_id,
        work_date,
        outcome,
        fraud_type,
        opened_at,
        closed_at,
        'case' as label_source,
        0 as source_rank,
        cast(case_id as varchar) as verdict_id
    from investigation_cases
    where closed_at is not null
        and outcome in ('confirmed', 'cleared')

    union all

    select
        employee_id,
        work_date,
        verdict as outcome,
        case when verdict = 'confirmed' then reason end as fraud_type,
        decided_at as opened_at,
        decided_at as closed_at,
        'review' as label_source,
        1 as source_rank,
        disposition_id as verdict_id
    from dispositions
    where verdict in ('confirmed', 'cleared')

),

ranked as (

    select
        *,
        row_number() over (
            partition by employee_id, work_date
            order by closed_at desc, source_rank asc, verdict_id desc
        ) as closed_recency
    from verdicts

),

investigation_labels as (

    select
        employee_id,
        work_date,
        outcome,
        fraud_type,
        opened_at,
        closed_at,
        label_source
    from ranked
    where closed_recency = 1

)

select * from investigation_labels
