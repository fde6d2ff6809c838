{#
    The run's work_date window, from the environment variables TSFRAUD_DBT_MIN_DATE and
    TSFRAUD_DBT_MAX_DATE (ISO dates; both empty or unset: the run covers all data).

    Environment, not `--vars`: dbt re-parses the whole project whenever its `--vars` change
    (every run has another window), and it re-parses a file whose parse read an env var that
    changed. So the variables are read only when dbt executes (`execute` is false while it
    parses): nothing in the saved parse depends on them and consecutive runs over different
    windows reuse it (tests/integration/test_dbt_partial_parse.py).

    Returns none when there is no window, else a dict with `min` and `max` as ISO strings.
    `lookback_days` widens the start, for models whose rolling windows need history from
    before the window (the 28-day baselines, reciprocal approvals); `lookahead_days` widens the
    end, for submission batches that also hold later work dates. The arithmetic happens here in
    Jinja so that both engines get plain date literals, which also lets Athena prune partitions.
#}
{% macro work_date_window(lookback_days=0, lookahead_days=0) %}
    {%- if not execute -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set min_date = env_var('TSFRAUD_DBT_MIN_DATE', '') | trim -%}
    {%- set max_date = env_var('TSFRAUD_DBT_MAX_DATE', '') | trim -%}
    {%- if not min_date and not max_date -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- if not min_date or not max_date -%}
        {%- do exceptions.raise_compiler_error(
            "Give both TSFRAUD_DBT_MIN_DATE and TSFRAUD_DBT_MAX_DATE (ISO dates), or neither;"
            ~ " got '" ~ min_date ~ "' and '" ~ max_date ~ "'") -%}
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
            "TSFRAUD_DBT_MIN_DATE " ~ parsed[0] ~ " is after TSFRAUD_DBT_MAX_DATE " ~ parsed[1]) -%}
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
