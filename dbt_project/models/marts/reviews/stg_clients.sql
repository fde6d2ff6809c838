{#
    Client names, so the review pages and `tsfraud query` name the client instead of showing
    its id. A view over the raw snapshot (a few hundred rows).
#}
{{ config(materialized='view') }}

with source as (

    {{ lake_source('raw_clients') }}

)

select
    cast(client_id as bigint) as client_id,
    cast(client_name as varchar) as client_name,
    cast(industry as varchar) as industry,
    cast(country_code as varchar) as country_code
from source
