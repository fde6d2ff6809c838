{#
    Coordination between colleagues: one row per employee-day whose first line was entered
    within 60 seconds of another employee's first line of a day, on the same channel, with
    how many distinct submission dates that same pair did so over the 28 days up to the day
    (the largest such count over partners). Buddy timesheeting (a colleague files the day of
    someone who was not there) repeats with one partner; two people who happen to submit in
    the same minute once or twice do not. Honest proxies exist (an assistant entering a
    travelling team-mate's time), so this is weak evidence alone: it adds up with the
    activity signals.
#}
with timesheet_entries as (

    select * from {{ ref('stg_timesheet_entries') }}

),

numbered as (

    select
        employee_id,
        work_date,
        submitted_at,
        entry_channel,
        row_number() over (
            partition by employee_id, work_date order by submitted_at, entry_id
        ) as line_order
    from timesheet_entries
    where submitted_at is not null

),

first_lines as (

    select
        employee_id,
        work_date,
        entry_channel,
        cast(submitted_at as date) as submitted_date,
        {{ dbt.datediff("cast('2000-01-01' as timestamp)", 'submitted_at', 'second') }}
            as submitted_s
    from numbered
    where line_order = 1

),

minutes as (

    select
        *,
        floor(submitted_s / 60) as submitted_minute
    from first_lines

),

neighbour_minutes as (

    select -1 as minute_offset
    union all
    select 0 as minute_offset
    union all
    select 1 as minute_offset

),

pairs as (

    select distinct
        mine.employee_id,
        mine.work_date,
        theirs.employee_id as partner_id,
        mine.submitted_date
    from minutes as mine
    cross join neighbour_minutes
    inner join minutes as theirs
        on theirs.submitted_minute = mine.submitted_minute + neighbour_minutes.minute_offset
        and theirs.entry_channel = mine.entry_channel
        and theirs.employee_id <> mine.employee_id
    where abs(theirs.submitted_s - mine.submitted_s) <= 60

),

repeated as (

    select
        today.employee_id,
        today.work_date,
        today.partner_id,
        count(distinct history.submitted_date) as cosubmitted_days
    from pairs as today
    inner join pairs as history
        on history.employee_id = today.employee_id
        and history.partner_id = today.partner_id
        and {{ in_trailing_window('history.work_date', 'today.work_date', include_day=true) }}
    group by today.employee_id, today.work_date, today.partner_id

),

cosubmissions as (

    select
        employee_id,
        work_date,
        max(cosubmitted_days) as cosubmitted_days_28d
    from repeated
    group by employee_id, work_date

)

select * from cosubmissions
