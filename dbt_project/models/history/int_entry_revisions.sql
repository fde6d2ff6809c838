{#
    Post-approval revisions per employee-day, from the entry history: the signals of "changed
    after approval" that time-audit practice looks for, ready for employee_day_features.

    Counted per (employee_id, work_date) of the version's day, over versions whose previous
    version was approved:
    - hours_raised_after_approval: updates that raised the hours, and by how much in total;
    - project_changed_after_approval / deleted_after_approval: such updates and deletions;
    - reapproved_by_other: an approved version re-approved by a different approver;
    - revision_count: every update and deletion of the day's entries, approved or not.
    A view, filtered on the run's window (TSFRAUD_DBT_MIN_DATE / MAX_DATE) so Athena prunes.
#}
{{ config(materialized='view') }}

{%- set window = work_date_window() %}

with versions as (

    select * from {{ ref('entry_history') }}
    {%- if window %}
    where work_date between date '{{ window.min }}' and date '{{ window.max }}'
    {%- endif %}

),

revisions as (

    select
        employee_id,
        work_date,
        change_kind,
        old_status = 'approved' as was_approved,
        change_kind = 'updated' and hours > old_hours as hours_raised,
        case when change_kind = 'updated' and hours > old_hours
            then hours - old_hours else 0 end as hours_added,
        change_kind = 'updated' and project_id <> old_project_id as project_changed,
        change_kind = 'updated' and status = 'approved' and old_status = 'approved'
            and approver_id <> old_approver_id as reapproved_by_other
    from versions
    where change_kind in ('updated', 'deleted')

)

select
    employee_id,
    work_date,
    count(*) as revision_count,
    sum(case when was_approved and hours_raised then 1 else 0 end)
        as hours_raised_after_approval,
    sum(case when was_approved then hours_added else 0 end) as hours_added_after_approval,
    sum(case when was_approved and project_changed then 1 else 0 end)
        as project_changed_after_approval,
    sum(case when was_approved and change_kind = 'deleted' then 1 else 0 end)
        as deleted_after_approval,
    sum(case when reapproved_by_other then 1 else 0 end) as reapproved_by_other
from revisions
group by employee_id, work_date
