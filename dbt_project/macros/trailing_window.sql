{#
    A date in the trailing window of a day, as a join condition: `earlier` within the `days`
    calendar days before `day` (28: the baselines, approver habits, reciprocal approvals and
    co-submissions all look back four weeks). `include_day` also admits `day` itself; the
    personal baselines leave it out, so a fraudulent day cannot move its own yardstick.
#}
{% macro in_trailing_window(earlier, day, days=28, include_day=false) -%}
    {{ earlier }} {{ '<=' if include_day else '<' }} {{ day }}
    and {{ earlier }} >= cast({{ dbt.dateadd('day', -days, day) }} as date)
{%- endmacro %}
