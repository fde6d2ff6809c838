-- Nobody can work more than 24 hours in a calendar day: a day booked beyond that means the
-- hours were summed wrongly (e.g. a join fanned out entries), not that someone worked hard.
-- Severity warn: a duplicated line can push a fraudulent day past 24 h in the source itself,
-- and such a day must reach the suspect list, not stop the pipeline. The warning still shows
-- on the asset check, where a fan-out bug would show on many days at once.
{{ config(tags=['features'], severity='warn') }}

select
    employee_id,
    work_date,
    total_hours
from {{ ref('employee_day_features') }}
where total_hours > 24
