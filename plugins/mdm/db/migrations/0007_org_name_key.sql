-- Superseded: std.strip_company_form and std.org_name_key are dbt functions now
-- (dbt_project/functions, ADR 0013; migrate.py).
select 1;
