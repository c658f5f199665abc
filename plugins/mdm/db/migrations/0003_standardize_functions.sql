-- Schema std: the standardisation rules. Their definitions are dbt's (dbt_project/functions,
-- one file per rule, ADR 0013); this migration once held them and is superseded (migrate.py).
create schema if not exists std;
