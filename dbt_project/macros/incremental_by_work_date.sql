{#
    Config for marts kept incrementally by work_date, per engine.

    DuckDB: delete+insert on `unique_key`; the pre-hook `replace_work_date_window()` first
    empties the window's dates, so a re-run also drops rows that vanished from the input.
    Athena: a Hive/Parquet table partitioned by work_date with insert_overwrite, so a run
    rewrites exactly the partitions it produces (work_date must be the last selected column).
#}
{% macro incremental_by_work_date_config(unique_key) %}
    {%- if target.type == 'athena' -%}
        {%- do return({
            'materialized': 'incremental',
            'incremental_strategy': 'insert_overwrite',
            'table_type': 'hive',
            'format': 'parquet',
            'partitioned_by': ['work_date'],
            'pre_hook': ["{{ replace_work_date_window() }}"],
        }) -%}
    {%- else -%}
        {%- do return({
            'materialized': 'incremental',
            'incremental_strategy': 'delete+insert',
            'unique_key': unique_key,
            'pre_hook': ["{{ replace_work_date_window() }}"],
        }) -%}
    {%- endif -%}
{% endmacro %}


{#
    Pre-hook: on an incremental run, remove what the run is about to rewrite.

    With a window (TSFRAUD_DBT_MIN_DATE/MAX_DATE) only those dates go; without one the run recomputes
    everything, so everything goes. On DuckDB this runs inside the model's transaction. On
    Athena there is no DELETE on Hive tables: the window's partitions are dropped from Glue and
    S3 (insert_overwrite alone would leave a date that no longer has any row untouched).
#}
{% macro replace_work_date_window() %}
    {%- if execute and is_incremental() -%}
        {%- set window = work_date_window() -%}
        {%- if target.type == 'athena' -%}
            {%- if window is not none -%}
                {%- do adapter.clean_up_partitions(
                    this,
                    "work_date >= '" ~ window.min ~ "' and work_date <= '" ~ window.max ~ "'") -%}
            {%- endif -%}
        {%- else -%}
            delete from {{ this }} where {{ work_date_in_window('work_date') }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
