{#
    Post-approval revisions per employee-day, from the entry history: the signals of "changed
    after approval" that time-audit practice looks for, joined into employee_day_features.

    An entry counts as approved from its first approved version on: a correction usually goes
    approved -> submitted (with the new hours) -> approved again, and a daily extract sees
    each step, so "the version before was approved" would miss the re-approval and anything
    changed while the entry was re-opened. Counted per (employee_id, work_date) of the
    version's day:
    - revision_count: edits of the day's entries (any field but status / approver / approval
      time changed) and deletions, approved or not. Approvals and rejections are the normal
      life of an entry, not revisions, so they do not count;
    - hours_raised_after_approval: edits of an approved entry that raised its hours, and
      hours_added_after_approval: by how much in total;
    - project_changed_after_approval / deleted_after_approval: such edits and deletions;
    - reapproved_by_other: an approval by someone other than the entry's previous approver.
    A view, filtered on the run's window (TSFRAUD_DBT_MIN_DATE / MAX_DATE) so Athena prunes.
    Only portable SQL (window frames, no IGNORE NULLS, no regex): it runs on DuckDB and Athena.
#}
{{ config(materialized='view') }}

{%- set window = work_date_window() %}
{%- set content_fields = [
    'employee_id', 'project_id', 'hours', 'activity_code', 'comment', 'entry_channel',
    'submitted_at'] %}

with versions as (

    select * from {{ ref('entry_history') }}
    {%- if window %}
    where work_date between date '{{ window.min }}' and date '{{ window.max }}'
    {%- endif %}

),

sequenced as (

    select
        versions.*,
        coalesce(max(case when status = 'approved' then 1 else 0 end) over (
            partition by entry_id, work_date order by version
            rows between unbounded preceding and 1 preceding
        ), 0) = 1 as approved_before,
        ',' || coalesce(changed_fields, '') || ',' as fields
    from versions

),

revisions as (

    select
        employee_id,
        work_date,
        change_kind,
        approved_before,
        change_kind = 'deleted' or (
            change_kind = 'updated' and (
                {%- for f in content_fields %}
                fields like '%,{{ f }},%'{{ ' or' if not loop.last }}
                {%- endfor %}
            )
        ) as is_edit,
        change_kind = 'updated' and hours > old_hours as hours_raised,
        case when change_kind = 'updated' and hours > old_hours
            then hours - old_hours else 0 end as hours_added,
        change_kind = 'updated' and project_id <> old_project_id as project_changed
    from sequenced
    where change_kind in ('updated', 'deleted')

),

approvals as (

    -- each approval with the approver of the entry's approval before it
    select
        employee_id,
        work_date,
        approver_id,
        lag(approver_id) over (
            partition by entry_id, work_date order by version
        ) as previous_approver_id
    from sequenced
    where status = 'approved' and change_kind in ('inserted', 'updated')

),

reapprovals as (

    select
        employee_id,
        work_date,
        sum(case when approver_id <> previous_approver_id then 1 else 0 end)
            as reapproved_by_other
    from approvals
    group by employee_id, work_date

),

edits as (

    select
        employee_id,
        work_date,
        sum(case when is_edit then 1 else 0 end) as revision_count,
        sum(case when approved_before and hours_raised then 1 else 0 end)
            as hours_raised_after_approval,
        sum(case when approved_before then hours_added else 0 end)
            as hours_added_after_approval,
        sum(case when approved_before and project_changed then 1 else 0 end)
            as project_changed_after_approval,
        sum(case when approved_before and change_kind = 'deleted' then 1 else 0 end)
            as deleted_after_approval
    from revisions
    group by employee_id, work_date

)

select
    coalesce(edits.employee_id, reapprovals.employee_id) as employee_id,
    coalesce(edits.work_date, reapprovals.work_date) as work_date,
    coalesce(edits.revision_count, 0) as revision_count,
    coalesce(edits.hours_raised_after_approval, 0) as hours_raised_after_approval,
    coalesce(edits.hours_added_after_approval, 0) as hours_added_after_approval,
    coalesce(edits.project_changed_after_approval, 0) as project_changed_after_approval,
    coalesce(edits.deleted_after_approval, 0) as deleted_after_approval,
    coalesce(reapprovals.reapproved_by_other, 0) as reapproved_by_other
from edits
full outer join reapprovals
    on reapprovals.employee_id = edits.employee_id
    and reapprovals.work_date = edits.work_date
