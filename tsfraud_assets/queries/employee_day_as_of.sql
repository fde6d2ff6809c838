-- One employee's timesheet entries for one work date as they stood at a given moment, from
-- the entry history: each entry in force then with its hours, project, status and approver at
-- that time. Put the approval time or the scoring time in as_of to see the day as the approver
-- or the model saw it, and compare with today's values (version, changed_fields).
-- @param employee_id bigint  The employee (employee_id, as in the suspect lists).
-- @param work_date date  The work date.
-- @param as_of varchar  The moment, 'YYYY-MM-DD HH:MM:SS' in UTC (e.g. approved_at, scored_at).
select
    history.work_date,
    history.employee_id,
    history.entry_id,
    history.version,
    history.change_kind,
    history.changed_fields,
    history.valid_from,
    history.valid_to,
    history.hours,
    history.project_id,
    history.activity_code,
    history.status,
    history.approver_id,
    history.approved_at,
    history.updated_at
from {{ ref('entry_history') }} as history
where history.work_date = :work_date
    and history.employee_id = :employee_id
    and history.is_present
    and history.valid_from <= cast(:as_of as timestamp)
    and (history.valid_to is null or history.valid_to > cast(:as_of as timestamp))
order by history.entry_id
