{#
    The run's work_date window, from the vars `min_date` and `max_date` (ISO dates).

    Returns none when neither var is set (the run covers all data), else a dict with `min` and
    `max` as ISO strings. `lookback_days` widens the start, for models whose rolling windows
    need history from before the window (the 28-day baselines, reciprocal approvals);
    `lookahead_days` widens the end, for submission batches that also hold later work dates.
    The arithmetic happens here in Jinja so that both engines get plain date literals, which
    also lets Athena prune partitions.
#}
{% macro work_date_window(lookback_days=0, lookahead_days=0) %}
    {%- set min_date = var('min_date', none) -%}
    {%- set max_date = var('max_date', none) -%}
    {%- if min_date is none and max_date is none -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- if min_date is none or max_date is none -%}
        {%- do exceptions.raise_compiler_error(
            "Give both vars min_date and max_date (ISO dates), or neither; got min_date="
            ~ min_date ~ ", max_date=" ~ max_date) -%}
    {%- endif -%}
    {%- set parsed = [] -%}
    {%- for value in [min_date, max_date] -%}
        {%- set text = value | string -%}
        {%- if not modules.re.match('^\d{4}-\d{2}-\d{2}$', text) -%}
            {%- do exceptions.raise_compiler_error("Not an ISO date (YYYY-MM-DD): " ~ text) -%}
        {%- endif -%}
        {%- do parsed.append(modules.datetime.datetime.strptime(text, '%Y-%m-%d').date()) -%}
    {%- endfor -%}
    {%- if parsed[0] > parsed[1] -%}
        {%- do exceptions.raise_compiler_error(
            "min_date " ~ parsed[0] ~ " is after max_date " ~ parsed[1]) -%}
    {%- endif -%}
    {%- set start = parsed[0] - modules.datetime.timedelta(days=lookback_days) -%}
    {%- set end = parsed[1] + modules.datetime.timedelta(days=lookahead_days) -%}
    {%- do return({'min': start.isoformat(), 'max': end.isoformat()}) -%}
{% endmacro %}


{#
    A SQL predicate restricting `column` to the run's window (widened as in
    work_date_window), or `true` when the run covers all data.
#}
{% macro work_date_in_window(column='work_date', lookback_days=0, lookahead_days=0) %}
    {%- set window = work_date_window(lookback_days, lookahead_days) -%}
    {%- if window is none -%}
        true
    {%- else -%}
        {{ column }} between cast('{{ window.min }}' as date) and cast('{{ window.max }}' as date)
    {%- endif -%}
{% endmacro %}
