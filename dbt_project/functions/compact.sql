select nullif(regexp_replace(normalize(value, NFKC), '\s+', '', 'g'), '')
