{#
    Every version of every timesheet entry with its validity interval (type 2): the lake's
    append-only history, read as one row per version with valid_from / valid_to.

    valid_to is not in the files (an append-only file cannot be amended when the next version
    arrives): it is the next version's valid_from within the same (entry_id, work_date), null
    for the version in force. A moved entry is two chains, `deleted` on its old day and
    `inserted` on its new one, which is what a day's picture at a time T needs:
        where work_date = D and valid_from <= T and (valid_to is null or valid_to > T)
          and is_present
#}
{{ config(materialized='view') }}

with source as (

    {{ lake_source('timesheet_entry_versions') }}

),

typed as (

    select
        cast(entry_id as bigint) as entry_id,
        cast(work_date as date) as work_date,
        cast(version as integer) as version,
        cast(change_kind as varchar) as change_kind,
        cast(changed_fields as varchar) as changed_fields,
        cast(valid_from as timestamp) as valid_from,
        cast(employee_id as bigint) as employee_id,
        cast(project_id as bigint) as project_id,
        cast(hours as decimal(5, 2)) as hours,
        cast(activity_code as varchar) as activity_code,
        cast(comment as varchar) as comment,
        cast(entry_channel as varchar) as entry_channel,
        cast(status as varchar) as status,
        cast(submitted_at as timestamp) as submitted_at,
        cast(approver_id as bigint) as approver_id,
        cast(approved_at as timestamp) as approved_at,
        cast(updated_at as timestamp) as updated_at,
        cast(old_hours as decimal(5, 2)) as old_hours,
        cast(old_project_id as bigint) as old_project_id,
        cast(old_status as varchar) as old_status,
        cast(old_approver_id as bigint) as old_approver_id,
        cast(extracted_at as timestamp) as extracted_at

    from source

),

chained as (

    select
        typed.*,
        lead(valid_from) over (
            partition by entry_id, work_date order by version
        ) as valid_to

    from typed

)

select
    entry_id,
    work_date,
    version,
    change_kind,
    changed_fields,
    valid_from,
    valid_to,
    valid_to is null as is_current,
    change_kind <> 'deleted' as is_present,
    employee_id,
    project_id,
    hours,
    activity_code,
    comment,
    entry_channel,
    status,
    submitted_at,
    approver_id,
    approved_at,
    updated_at,
    old_hours,
    old_project_id,
    old_status,
    old_approver_id,
    -- an approved version changed afterwards: what DCAA-style audits ask to see
    coalesce(old_status = 'approved', false)
        and change_kind in ('updated', 'deleted') as changed_after_approval,
    extracted_at

from chained
