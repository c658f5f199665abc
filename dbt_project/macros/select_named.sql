{% macro select_named(columns, values, same=[]) -%}
{#-
    A select list of `columns`, in that order: each the SQL `values` gives for it by name,
    the column itself for the names in `same`, else null. A branch of a union all built
    this way cannot shift a value into the next column, and a name that is not one of
    `columns` (a typo) fails the build instead of being dropped.
-#}
{%- for name in (values.keys() | list) + same if name not in columns %}
{{ exceptions.raise_compiler_error("select_named: '" ~ name ~ "' is not one of " ~ columns | join(', ')) }}
{%- endfor %}
{%- for column in columns %}
    {{ column if column in same else values.get(column, 'null') }} as {{ column }}{{ "," if not loop.last }}
{%- endfor %}
{%- endmacro %}
