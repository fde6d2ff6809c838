-- Nobody can work more than 24 hours in a calendar day: a day booked beyond that means the
-- hours were summed wrongly (e.g. a join fanned out entries), not that someone worked hard.
{{ config(tags=['features']) }}

select
    employee_id,
    work_date,
    total_hours
from {{ ref('employee_day_features') }}
where total_hours > 24
