{#
    Median of a numeric expression as an aggregate. DuckDB has an exact `median`; Athena
    (Trino) has no exact one, `approx_percentile(x, 0.5)` is its documented substitute.
#}
{% macro median(expression) %}
    {{- return(adapter.dispatch('median', 'tsfraud')(expression)) -}}
{% endmacro %}

{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__median(expression) -%}
    median({{ expression }})
{%- endmacro %}

{% macro athena__median(expression) -%}
    approx_percentile({{ expression }}, 0.5)
{%- endmacro %}
