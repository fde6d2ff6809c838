{#
    The lake's datasets as Glue external tables, so the `lake` sources resolve on Athena.

    DuckDB reads each source straight from its Parquet files (`meta.external_location`), so
    there is nothing to create there. On Athena every source of `lake` in _sources.yml becomes
    a Hive external table over Parquet in TSFRAUD_ATHENA_SCHEMA, located at
    TSFRAUD_LAKE/<meta.lake_path>/; the sources with `meta.partitioned: true` are partitioned
    by `work_date` (Hive folders `work_date=YYYY-MM-DD`) with partition projection, so a new
    day is visible without MSCK REPAIR or ALTER TABLE ADD PARTITION (docs/athena-tables.md).
    Columns and types are the `data_type`s declared in _sources.yml, mapped to Hive types.

        dbt run-operation create_lake_sources --target athena   # create / repair the tables
        dbt run-operation print_lake_source_ddl --target athena # show the DDL, run nothing
#}

{#- The Hive partition column of every partitioned dataset (docs/data-contracts.md). -#}
{% macro lake_partition_column() %}
    {%- do return('work_date') -%}
{% endmacro %}


{#
    Last day the projection generates, relative to the query's UTC time. Work dates are
    local calendar dates, up to 14 hours ahead of UTC, so "today" somewhere may be tomorrow
    in UTC; one more day is one more empty prefix to list on an unbounded query.
#}
{% macro lake_projection_end() %}
    {%- do return('NOW+1DAYS') -%}
{% endmacro %}


{#
    What every lake table should look like: a list, ordered by name, of dicts with
    `name`, `database`, `schema`, `hive_name` (backticked schema.table), `location`,
    `columns` (list of [name, hive type], partition column excluded), `partition_column`
    (none when unpartitioned) and `properties` (the TBLPROPERTIES we own).
#}
{% macro lake_source_tables() %}
    {%- set lake_root = lake_s3_root() -%}
    {%- set tables = [] -%}
    {%- set sources = graph.sources.values()
        | selectattr('package_name', 'equalto', project_name)
        | selectattr('source_name', 'equalto', 'lake')
        | sort(attribute='name') -%}
    {%- for node in sources -%}
        {%- set meta = node.config.meta or node.meta or {} -%}
        {%- if not meta.lake_path -%}
            {%- do exceptions.raise_compiler_error(
                "source lake." ~ node.name ~ " has no meta.lake_path (its folder under TSFRAUD_LAKE)") -%}
        {%- endif -%}
        {%- set location = lake_root ~ '/' ~ (meta.lake_path | trim('/')) ~ '/' -%}
        {%- set partition_column = lake_partition_column() if meta.partitioned else none -%}

        {%- set columns = [] -%}
        {%- set partition_seen = [] -%}
        {%- for column in node.columns.values() -%}
            {%- if not column.data_type -%}
                {%- do exceptions.raise_compiler_error(
                    "column " ~ column.name ~ " of source lake." ~ node.name ~ " has no data_type") -%}
            {%- endif -%}
            {%- if column.name == partition_column -%}
                {%- if lake_hive_type(column.data_type) != 'date' -%}
                    {%- do exceptions.raise_compiler_error(
                        "partition column " ~ column.name ~ " of lake." ~ node.name ~ " must be a date") -%}
                {%- endif -%}
                {%- do partition_seen.append(column.name) -%}
            {%- else -%}
                {%- do columns.append([column.name | lower, lake_hive_type(column.data_type)]) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if partition_column and not partition_seen -%}
            {%- do exceptions.raise_compiler_error(
                "source lake." ~ node.name ~ " is partitioned but declares no column " ~ partition_column) -%}
        {%- endif -%}

        {%- set properties = {'classification': 'parquet'} -%}
        {%- if partition_column -%}
            {%- set p = 'projection.' ~ partition_column -%}
            {%- do properties.update({
                'projection.enabled': 'true',
                p ~ '.type': 'date',
                p ~ '.format': 'yyyy-MM-dd',
                p ~ '.range': lake_projection_start() ~ ',' ~ lake_projection_end(),
                p ~ '.interval': '1',
                p ~ '.interval.unit': 'DAYS',
                'storage.location.template': location ~ partition_column ~ '=${' ~ partition_column ~ '}/',
            }) -%}
        {%- endif -%}

        {%- do tables.append({
            'name': node.identifier | lower,
            'database': node.database,
            'schema': node.schema | lower,
            'hive_name': '`' ~ (node.schema | lower) ~ '`.`' ~ (node.identifier | lower) ~ '`',
            'location': location,
            'columns': columns,
            'partition_column': partition_column,
            'properties': properties,
        }) -%}
    {%- endfor -%}
    {%- do return(tables) -%}
{% endmacro %}


{#- TSFRAUD_LAKE as an s3:// URL without a trailing slash; Athena reads nothing else. -#}
{% macro lake_s3_root() %}
    {%- set root = env_var('TSFRAUD_LAKE') | trim | trim('/') -%}
    {%- if not modules.re.match('^s3://[a-z0-9][a-z0-9.-]*[a-z0-9](/[A-Za-z0-9._=/-]*)?$', root) -%}
        {%- do exceptions.raise_compiler_error(
            "Athena tables need TSFRAUD_LAKE=s3://bucket/prefix (no quotes or spaces), got " ~ root) -%}
    {%- endif -%}
    {%- do return(root) -%}
{% endmacro %}


{#- First projected work date: the first Dagster partition (TSFRAUD_PARTITION_START). -#}
{% macro lake_projection_start() %}
    {%- set start = env_var('TSFRAUD_PARTITION_START', '2025-01-01') | trim -%}
    {%- if not modules.re.match('^\d{4}-\d{2}-\d{2}$', start) -%}
        {%- do exceptions.raise_compiler_error(
            "TSFRAUD_PARTITION_START must be an ISO date (YYYY-MM-DD), got " ~ start) -%}
    {%- endif -%}
    {%- do return(start) -%}
{% endmacro %}


{#
    The Hive type Athena DDL wants for a `data_type` declared in _sources.yml (written for
    DuckDB, where the declared types also type the empty stand-in of a missing dataset).
#}
{% macro lake_hive_type(data_type) %}
    {%- set declared = data_type | lower | replace(' ', '') -%}
    {%- set same = ['bigint', 'double', 'boolean', 'date', 'timestamp', 'string'] -%}
    {%- set renamed = {'integer': 'int', 'int': 'int', 'varchar': 'string'} -%}
    {%- if declared in same -%}
        {%- do return(declared) -%}
    {%- elif declared in renamed -%}
        {%- do return(renamed[declared]) -%}
    {%- elif modules.re.match('^decimal\(\d+,\d+\)$', declared) -%}
        {%- do return(declared) -%}
    {%- endif -%}
    {%- do exceptions.raise_compiler_error(
        "no Hive type for data_type '" ~ data_type ~ "'; add it to lake_hive_type()") -%}
{% endmacro %}


{#- The CREATE EXTERNAL TABLE statement of one entry of lake_source_tables(). -#}
{% macro lake_source_ddl(table) %}
    {%- set lines = ['create external table if not exists ' ~ table.hive_name ~ ' ('] -%}
    {%- for column in table.columns -%}
        {%- do lines.append('    `' ~ column[0] ~ '` ' ~ column[1] ~ (',' if not loop.last else '')) -%}
    {%- endfor -%}
    {%- do lines.append(')') -%}
    {%- if table.partition_column -%}
        {%- do lines.append('partitioned by (`' ~ table.partition_column ~ '` date)') -%}
    {%- endif -%}
    {%- do lines.append('stored as parquet') -%}
    {%- do lines.append("location '" ~ table.location ~ "'") -%}
    {%- do lines.append('tblproperties (') -%}
    {%- for key, value in table.properties.items() -%}
        {%- do lines.append("    '" ~ key ~ "' = '" ~ value ~ "'" ~ (',' if not loop.last else '')) -%}
    {%- endfor -%}
    {%- do lines.append(')') -%}
    {%- do return(lines | join('\n')) -%}
{% endmacro %}


{#- Every lake table's DDL, as a list of statements (no trailing semicolons). -#}
{% macro lake_source_ddls() %}
    {%- set statements = [] -%}
    {%- for table in lake_source_tables() -%}
        {%- do statements.append(lake_source_ddl(table)) -%}
    {%- endfor -%}
    {%- do return(statements) -%}
{% endmacro %}


{#- `dbt --quiet run-operation print_lake_source_ddl --target athena`: the DDL on stdout. -#}
{% macro print_lake_source_ddl() %}
    {%- for statement in lake_source_ddls() -%}
        {{ print(statement ~ ';\n') }}
    {%- endfor -%}
{% endmacro %}


{#
    Why an existing Glue table is not the table we want (empty list: it is). Only what we
    declare is compared: Athena and Glue add parameters of their own.
#}
{% macro lake_source_differences(table, glue_table) %}
    {%- set found = glue_table.get('StorageDescriptor', {}) -%}
    {%- set found_columns = [] -%}
    {%- for column in found.get('Columns', []) -%}
        {%- do found_columns.append([column.Name | lower, column.Type | lower | replace(' ', '')]) -%}
    {%- endfor -%}
    {%- set found_partitions = [] -%}
    {%- for column in glue_table.get('PartitionKeys', []) -%}
        {%- do found_partitions.append([column.Name | lower, column.Type | lower]) -%}
    {%- endfor -%}
    {%- set wanted_partitions = [[table.partition_column, 'date']] if table.partition_column else [] -%}
    {%- set found_parameters = glue_table.get('Parameters', {}) -%}

    {%- set differences = [] -%}
    {%- if found_columns != table.columns -%}
        {%- do differences.append('columns ' ~ found_columns ~ ' != ' ~ table.columns) -%}
    {%- endif -%}
    {%- if found_partitions != wanted_partitions -%}
        {%- do differences.append('partition keys ' ~ found_partitions ~ ' != ' ~ wanted_partitions) -%}
    {%- endif -%}
    {%- if (found.get('Location') or '') | trim('/') != table.location | trim('/') -%}
        {%- do differences.append('location ' ~ found.get('Location') ~ ' != ' ~ table.location) -%}
    {%- endif -%}
    {%- if 'parquet' not in (found.get('InputFormat') or '') | lower -%}
        {%- do differences.append('input format ' ~ found.get('InputFormat') ~ ' is not Parquet') -%}
    {%- endif -%}
    {%- for key, value in table.properties.items() -%}
        {%- if found_parameters.get(key) != value -%}
            {%- do differences.append(key ~ ' = ' ~ found_parameters.get(key) ~ ' != ' ~ value) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(differences) -%}
{% endmacro %}


{#- `dbt run-operation create_lake_sources`: make the lake sources queryable on the target. -#}
{% macro create_lake_sources() %}
    {%- do return(adapter.dispatch('create_lake_sources', 'tsfraud')()) -%}
{% endmacro %}


{% macro default__create_lake_sources() %}
    {%- do log(
        "create_lake_sources: nothing to create on " ~ target.type ~ ": its sources read the"
        ~ " lake's Parquet files directly (meta.external_location)", info=True) -%}
{% endmacro %}


{#
    Athena: create each missing table; drop and recreate one whose definition drifted (a
    column added to the contract, another TSFRAUD_LAKE or partition start). The drop is a
    Glue catalog delete: these are external tables, their data stays in S3 untouched.
    (dbt's drop_relation on Athena would also delete the table's S3 location: the lake.)
    Something else at one of these names (a view, an Iceberg table) is left alone: the
    other tables are still handled, then the operation fails naming it.
#}
{% macro athena__create_lake_sources() %}
    {%- set tables = lake_source_tables() -%}
    {%- for schema in tables | map(attribute='schema') | unique -%}
        {%- if not adapter.check_schema_exists(tables[0].database, schema) -%}
            {%- do log("create_lake_sources: creating schema " ~ schema, info=True) -%}
            {%- do run_query('create schema if not exists `' ~ schema ~ '`') -%}
        {%- endif -%}
    {%- endfor -%}

    {%- set refused = [] -%}
    {%- for table in tables -%}
        {%- set relation = api.Relation.create(
            database=table.database, schema=table.schema, identifier=table.name, type='table') -%}
        {%- set existing = adapter.get_glue_table(relation) -%}
        {%- set glue_table = existing['Table'] if existing is not none else none -%}
        {%- set differences = lake_source_differences(table, glue_table) if glue_table else [] -%}
        {%- set table_type = ((glue_table or {}).get('Parameters', {}).get('table_type') or '') | lower -%}

        {%- if glue_table is none -%}
            {%- do log("create_lake_sources: creating " ~ table.hive_name, info=True) -%}
            {%- do run_query(lake_source_ddl(table)) -%}
        {%- elif not differences -%}
            {%- do log("create_lake_sources: " ~ table.hive_name ~ " is up to date", info=True) -%}
        {%- elif glue_table.get('TableType') != 'EXTERNAL_TABLE' or table_type == 'iceberg' -%}
            {%- do refused.append(table.hive_name ~ " (TableType " ~ glue_table.get('TableType')
                ~ ", table_type " ~ (table_type or 'none') ~ ")") -%}
        {%- else -%}
            {%- do log("create_lake_sources: recreating " ~ table.hive_name ~ ": "
                ~ differences | join('; '), info=True) -%}
            {%- do adapter.delete_from_glue_catalog(relation) -%}
            {%- do run_query(lake_source_ddl(table)) -%}
        {%- endif -%}
    {%- endfor -%}

    {%- if refused -%}
        {%- do exceptions.raise_compiler_error(
            "create_lake_sources: not replacing what is not a Hive external table: "
            ~ refused | join(', ') ~ ". Drop or rename it, then run this again.") -%}
    {%- endif -%}
{% endmacro %}
