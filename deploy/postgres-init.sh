#!/usr/bin/env bash
# First start of the compose PostgreSQL: the two owners and their databases.
# The warehouse schemas, migrations and analyst roles are made by `mdm db start`
# (the airflow-init service), the same code as everywhere else.
set -euo pipefail
# Refuse the placeholders of .env.example (the list is mdm.settings.PLACEHOLDER_SECRETS).
for name in POSTGRES_PASSWORD AIRFLOW_DB_PASSWORD MDM_DB_PASSWORD; do
    case "${!name,,}" in
        change-me|changeme|change_me|changethis|replace-me|secret|password|example|xxx|todo|test|admin|postgres|"")
            echo "refusing to initialise: $name is a placeholder (.env.example); set a real secret in .env" >&2
            exit 1 ;;
    esac
done
# The passwords are psql variables filled from the container's environment (.env), never here.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v airflow_password="$AIRFLOW_DB_PASSWORD" -v mdm_password="$MDM_DB_PASSWORD" <<'SQL'
create role airflow login password :'airflow_password';
-- mdm owns the warehouse; it creates the analyst/steward group roles and share views.
create role mdm login createrole password :'mdm_password';
create database airflow owner airflow;
create database mdm owner mdm;
create database frontend owner mdm;
SQL
# The share read log is written over a dblink loopback (ADR 0012); dblink is not a
# trusted extension, so the superuser installs it and lets mdm make its foreign server.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname mdm <<'SQL'
create schema if not exists access authorization mdm;
create extension if not exists dblink schema access;
grant usage on foreign data wrapper dblink_fdw to mdm with grant option;
SQL
