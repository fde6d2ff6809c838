-- The scoring asset promises probabilities: a score outside [0, 1] (or missing) means it
-- wrote something other than the model's output.
{{ config(tags=['reports']) }}

select
    employee_id,
    work_date,
    fraud_score
from {{ ref('stg_timesheet_scores') }}
where fraud_score is null
    or fraud_score < 0
    or fraud_score > 1
