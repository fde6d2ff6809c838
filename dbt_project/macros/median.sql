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


{#
    A percentile (0..1) of a numeric expression as an aggregate: exact on DuckDB
    (`quantile_cont`), `approx_percentile` on Athena (Trino has no exact one).
#}
{% macro percentile(expression, fraction) %}
    {{- return(adapter.dispatch('percentile', 'tsfraud')(expression, fraction)) -}}
{% endmacro %}

{% macro default__percentile(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__percentile(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{% macro athena__percentile(expression, fraction) -%}
    approx_percentile({{ expression }}, {{ fraction }})
{%- endmacro %}
