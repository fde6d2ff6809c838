{#
    Each employee-day against the employee's own usual workstation activity: the 90th
    percentile of their daily activity ratio (active hours / claimed hours, capped at 1.5) over
    the 28 calendar days before the day, the day itself excluded (a padded day cannot lower its
    own baseline). Only days with claimed hours and some activity take part, and at least five
    of them are needed (null otherwise: no baseline, no evidence).

    Why a high percentile and not the median: a habitual padder pads about half their days, so
    their median ratio already contains the padding; their honest days are the high end.
    People whose screens are naturally idle half the day (meetings, calls, site visits) get a
    low baseline, so their ordinary days no longer look like padding against a firm-wide
    threshold. `activity_noise_28d` says how noisy the firm's activity logs are (the day's
    median of everyone's own spread): on noisy logs a shortfall means less.

    The same window gives the person's usual *presence gap*: claimed hours beyond the span
    from first to last activity seen, 25th percentile over the 28 days before (>= 5 days with
    a span). Field staff whose work happens mostly on a client's machine have a large gap
    every day; a padder who pads half their days still has honest days below the quartile.
#}
with employee_days as (

    select
        employee_id,
        work_date,
        total_hours,
        active_hours,
        presence_hours
    from {{ ref('int_employee_days') }}

),

prior_days as (

    select
        employee_id,
        work_date,
        case
            when active_hours > 0 and active_hours / total_hours > 1.5 then 1.5
            when active_hours > 0 then active_hours / total_hours
        end as activity_ratio,
        case
            when presence_hours is not null
                then greatest(total_hours - presence_hours, 0)
        end as presence_gap
    from employee_days
    where total_hours > 0
        and (active_hours > 0 or presence_hours is not null)

),

day_with_history as (

    select
        employee_days.employee_id,
        employee_days.work_date,
        prior_days.activity_ratio,
        prior_days.presence_gap
    from employee_days
    left join prior_days
        on prior_days.employee_id = employee_days.employee_id
        and {{ in_trailing_window('prior_days.work_date', 'employee_days.work_date') }}

),

baselines as (

    select
        employee_id,
        work_date,
        count(activity_ratio) as ratio_days_28d,
        case
            when count(activity_ratio) >= 5 then {{ percentile('activity_ratio', 0.9) }}
        end as own_activity_ratio_28d,
        case
            when count(activity_ratio) >= 5 then stddev_samp(activity_ratio)
        end as own_activity_ratio_sd_28d,
        case
            when count(presence_gap) >= 5 then {{ percentile('presence_gap', 0.25) }}
        end as own_presence_gap_28d
    from day_with_history
    group by employee_id, work_date

),

-- How noisy the firm's activity logs are: the median, over everyone with a baseline that
-- day, of their own day-to-day spread. A logging system that misses or double-counts time
-- affects everybody; a padder's spread affects one person and not the median.
firm_noise as (

    select
        work_date,
        {{ median('own_activity_ratio_sd_28d') }} as activity_noise_28d
    from baselines
    where own_activity_ratio_sd_28d is not null
    group by work_date

)

select
    baselines.employee_id,
    baselines.work_date,
    baselines.ratio_days_28d,
    baselines.own_activity_ratio_28d,
    baselines.own_activity_ratio_sd_28d,
    baselines.own_presence_gap_28d,
    firm_noise.activity_noise_28d
from baselines
left join firm_noise
    on firm_noise.work_date = baselines.work_date
