# The project image every Airflow service of docker-compose.yml runs: Airflow 3,
# dbt, Splink (DuckDB and Spark), GX and the mdm package, from the same pinned
# lock as `make install` (constraints.txt). Build: docker compose build.
FROM python:3.11-slim-bookworm

# Java runs Spark (MDM_SPLINK_BACKEND=spark); libpq's client for psql in debugging.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends openjdk-17-jre-headless postgresql-client curl \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MDM_PROJECT_DIR=/opt/mdm

RUN useradd --create-home --uid 50000 --gid 0 mdm
WORKDIR /opt/mdm

# Dependencies first (a layer that changes only with the lock), then the project.
# The same two pip commands as the Makefile's install step (tests/unit/test_deployment.py).
ARG PIP_VERSION=25.3
COPY pyproject.toml constraints.txt README.md ./
COPY plugins/mdm/__init__.py plugins/mdm/__init__.py
RUN python -m pip install --no-cache-dir "pip==${PIP_VERSION}" \
    && python -m pip install --no-cache-dir -c constraints.txt -e .

COPY plugins/ plugins/
COPY dags/ dags/
COPY dbt_project/ dbt_project/
COPY expectations/ expectations/
# Editable install again so the package metadata sees the whole tree (no downloads).
RUN python -m pip install --no-cache-dir --no-deps -c constraints.txt -e . \
    && mkdir -p /opt/airflow/logs /data/landing /data/shared \
    && chown -R mdm:0 /opt/mdm /opt/airflow /data && chmod -R g+rwX /opt/mdm /opt/airflow /data

USER mdm
ENV MDM_HOME=/home/mdm/.mdm
