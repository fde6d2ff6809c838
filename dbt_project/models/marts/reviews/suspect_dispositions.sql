{#
    Investigators' verdicts, every row ever recorded (append-only: a changed mind is a new
    row; the latest `decided_at` per employee-day is the standing verdict). A view, so a
    verdict recorded a second ago is visible without a dbt run: on DuckDB it reads the
    Parquet files, on Athena the Glue table over the same folder.
#}
{{ config(materialized='view') }}

with source as (

    {{ lake_source('suspect_disposition_files') }}

)

select
    cast(disposition_id as varchar) as disposition_id,
    cast(employee_id as bigint) as employee_id,
    cast(employee_code as varchar) as employee_code,
    cast(work_date as date) as work_date,
    cast(model_version as varchar) as model_version,
    cast(scored_at as timestamp) as scored_at,
    cast(fraud_score as double) as fraud_score,
    cast(verdict as varchar) as verdict,
    cast(reason as varchar) as reason,
    cast(reviewer as varchar) as reviewer,
    cast(note as varchar) as note,
    cast(decided_at as timestamp) as decided_at,
    cast(channel as varchar) as channel
from source
