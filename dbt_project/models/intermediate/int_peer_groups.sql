{#
    Each employee-day against peers: the mean counted hours that day of the other
    employees with the same grade, practice and country who booked time that day. The
    employee is left out so that a small group's mean is not dragged toward the outlier
    it is meant to expose. Null when there is no such peer.
#}
with employee_days as (

    select * from {{ ref('int_employee_days') }}

),

booking_days as (

    select
        work_date,
        grade,
        practice,
        country_code,
        total_hours
    from employee_days
    where total_hours > 0

),

peer_group_totals as (

    select
        work_date,
        grade,
        practice,
        country_code,
        sum(total_hours) as group_hours,
        count(*) as group_days
    from booking_days
    group by work_date, grade, practice, country_code

),

peer_groups as (

    select
        employee_days.employee_id,
        employee_days.work_date,
        peer_group_totals.group_days
            - case when employee_days.total_hours > 0 then 1 else 0 end as peer_count,
        peer_group_totals.group_hours
            - case when employee_days.total_hours > 0 then employee_days.total_hours else 0 end
            as peer_hours
    from employee_days
    left join peer_group_totals
        on peer_group_totals.work_date = employee_days.work_date
        and peer_group_totals.grade = employee_days.grade
        and peer_group_totals.practice = employee_days.practice
        and peer_group_totals.country_code = employee_days.country_code

),

peer_means as (

    select
        employee_id,
        work_date,
        coalesce(peer_count, 0) as peer_count,
        case when peer_count > 0 then peer_hours / peer_count end as peer_mean_hours
    from peer_groups

)

select * from peer_means
