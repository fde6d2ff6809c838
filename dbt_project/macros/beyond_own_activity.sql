{#
    Claimed hours that the day's workstation activity does not account for at the person's
    own usual activity ratio (int_activity_baselines): 0 without a baseline or without any
    activity (a day with none is its own signal). One expression for the features mart's
    hours_beyond_own_activity and the padding habit (int_padding_habits), so the day's value
    and the days it is counted on cannot drift apart.
#}
{% macro hours_beyond_own_activity(total_hours, active_hours, has_activity, own_ratio) -%}
    case
        when {{ own_ratio }} > 0 and {{ has_activity }}
            then greatest({{ total_hours }} - {{ active_hours }} / {{ own_ratio }}, 0)
        else 0
    end
{%- endmacro %}
