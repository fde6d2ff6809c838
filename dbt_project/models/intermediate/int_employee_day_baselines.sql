{#
    Each employee-day against the employee's own recent past: the median and standard
    deviation of their daily counted hours over the 28 calendar days before the day
    (the day itself excluded, so a fraudulent day cannot pull its own baseline up). Only
    prior days with counted hours take part: a day whose every entry was rejected says
    nothing about how long the employee usually works. The median is null without such a
    day, the standard deviation without two (never NaN, on either engine).
#}
with employee_days as (

    select * from {{ ref('int_employee_days') }}

),

prior_days as (

    select
        employee_id,
        work_date,
        total_hours
    from employee_days
    where total_hours > 0

),

day_with_history as (

    select
        employee_days.employee_id,
        employee_days.work_date,
        prior_days.total_hours as prior_total_hours
    from employee_days
    left join prior_days
        on prior_days.employee_id = employee_days.employee_id
        and {{ in_trailing_window('prior_days.work_date', 'employee_days.work_date') }}

),

baselines as (

    select
        employee_id,
        work_date,
        count(prior_total_hours) as prior_days_28d,
        {{ median('prior_total_hours') }} as median_hours_28d,
        case
            when count(prior_total_hours) >= 2 then stddev_samp(prior_total_hours)
        end as stddev_hours_28d
    from day_with_history
    group by employee_id, work_date

)

select * from baselines
