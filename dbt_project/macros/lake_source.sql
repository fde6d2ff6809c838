{#
    `select` from a lake source that may not have any file yet.

    On DuckDB a source is a read_parquet() glob, and DuckDB fails when the glob matches no
    file: on a fresh lake there are no scores before the first model is trained, and a
    snapshot may not have been written yet. Then this yields the columns declared for the
    source in _sources.yml, typed, with no rows; the next run, which recreates the view,
    picks the files up. On Athena a source is a Glue table, which is simply empty.
    At parse time (`execute` false) the source() call is always rendered, so lineage holds.
#}
{% macro lake_source(table_name) %}
    {%- set relation = source('lake', table_name) -%}
    {%- if lake_source_has_files(table_name) -%}
        select * from {{ relation }}
    {%- else -%}
        {%- set columns = lake_source_node(table_name).columns.values() | list -%}
        {%- if not columns -%}
            {%- do exceptions.raise_compiler_error(
                "source lake." ~ table_name ~ " has no file and no columns declared") -%}
        {%- endif -%}
        select
        {%- for column in columns %}
            cast(null as {{ column.data_type }}) as {{ column.name }}{{ "," if not loop.last }}
        {%- endfor %}
        where false
    {%- endif -%}
{% endmacro %}


{% macro lake_source_node(table_name) %}
    {%- do return(graph.sources['source.' ~ project_name ~ '.lake.' ~ table_name]) -%}
{% endmacro %}


{% macro lake_source_has_files(table_name) %}
    {%- if not execute or target.type != 'duckdb' -%}
        {%- do return(true) -%}
    {%- endif -%}
    {%- set node = lake_source_node(table_name) -%}
    {%- set location = (node.config.meta or node.meta).external_location -%}
    {#- The path is a SQL string literal there, quotes doubled ('my lake''s copy'): take it
        whole and hand it to glob() as the same literal, never cut at the first quote. -#}
    {%- set match = modules.re.search("read_parquet\\(\\s*('(?:[^']|'')*')", location) -%}
    {%- if match is none -%}
        {%- do return(true) -%}
    {%- endif -%}
    {%- set found = run_query("select count(*) from glob(" ~ match.group(1) ~ ")") -%}
    {%- do return(found.columns[0].values()[0] > 0) -%}
{% endmacro %}
