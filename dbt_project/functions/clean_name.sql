select nullif(translate({{ function('compact') }}(value), '•・∙●.･', '······'), '')
