{#
    The padding shape as a habit: on how many of the 28 days before each employee-day (the
    day excluded) the person claimed

      * an hour or more over the contracted day,
      * far more than the workstation saw (claimed minus active >= max(2 h, 30% of the
        claim): the activity-gap rule's threshold), and
      * 1.5 h or more beyond what that day's activity supports at the person's *own* usual
        activity ratio (macro hours_beyond_own_activity, the mart's column of that name;
        days without a baseline or without activity never count).

    Why a count: people who pad, pad on about half their days, and on noisy activity logs one
    day's shortfall says little while four weeks of them say a lot. Why the person's own ratio
    as well as the firm-wide gap: a consultant whose work the firm's logs barely see (client
    sites, a client's laptop) has the firm-wide gap on every long day; against their own ratio
    their long days are ordinary. `prior.padding_shape` applies the same test to the day itself;
    keep the two equal.
#}
with employee_days as (

    select
        employee_days.employee_id,
        employee_days.work_date,
        employee_days.total_hours,
        employee_days.active_hours,
        employee_days.has_activity,
        employee_days.contracted_daily_hours,
        activity_baselines.own_activity_ratio_28d
    from {{ ref('int_employee_days') }} as employee_days
    left join {{ ref('int_activity_baselines') }} as activity_baselines
        on activity_baselines.employee_id = employee_days.employee_id
        and activity_baselines.work_date = employee_days.work_date

),

shaped_days as (

    select
        employee_id,
        work_date
    from employee_days
    where contracted_daily_hours > 0
        and total_hours - contracted_daily_hours >= 1
        and total_hours - active_hours >= greatest(2, 0.3 * total_hours)
        and {{ hours_beyond_own_activity(
            'total_hours', 'active_hours', 'has_activity', 'own_activity_ratio_28d'
        ) }} >= 1.5

)

select
    employee_days.employee_id,
    employee_days.work_date,
    count(shaped_days.work_date) as padding_shape_days_28d
from employee_days
left join shaped_days
    on shaped_days.employee_id = employee_days.employee_id
    and {{ in_trailing_window('shaped_days.work_date', 'employee_days.work_date') }}
group by employee_days.employee_id, employee_days.work_date
