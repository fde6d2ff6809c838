{#
    The hand-written rules, as SQL conditions over employee_day_features columns.

    One list feeds both `employee_day_features.rule_flag_count` and `daily_signal_summary`, so
    the count and the per-rule report cannot drift apart.
#}
{% macro fraud_rules() %}
    {%- do return([
        {'name': 'long_day', 'condition': 'total_hours > contracted_daily_hours + 3'},
        {'name': 'hours_exceed_activity', 'condition': 'hours_minus_active > 3'},
        {'name': 'leave_booked', 'condition': 'leave_hours > 0'},
        {'name': 'holiday_booked', 'condition': 'holiday_hours > 0'},
        {'name': 'unassigned_booked', 'condition': 'unassigned_hours > 0'},
        {'name': 'closed_project_booked', 'condition': 'closed_project_hours > 0'},
        {'name': 'post_termination_booked', 'condition': 'post_termination_hours > 0'},
        {'name': 'duplicate_lines', 'condition': 'duplicate_lines > 0'},
        {'name': 'bulk_backdated',
         'condition': '(max_submission_lag_days > 14 and days_submitted_same_batch >= 5)'},
        {'name': 'approval_conflict',
         'condition': '(self_approved_hours > 0 or reciprocal_approval_hours > 0)'},
    ]) -%}
{% endmacro %}


{# How many rules fire, as an integer SQL expression. #}
{% macro rule_flag_count() %}
    {%- set terms = [] -%}
    {%- for rule in fraud_rules() -%}
        {%- do terms.append('case when ' ~ rule.condition ~ ' then 1 else 0 end') -%}
    {%- endfor -%}
    ({{ terms | join('\n        + ') }})
{% endmacro %}
