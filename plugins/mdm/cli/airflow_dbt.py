"""``mdm airflow``, ``mdm dbt`` and ``mdm dbt-sources``: the engines, with our settings."""

from __future__ import annotations

import argparse

from mdm import db
from mdm.cli.common import out, warehouse
from mdm.settings import Settings


def cmd_airflow(settings: Settings, args: argparse.Namespace) -> int:
    from mdm import airflow_home

    command = args.airflow_args or ["standalone"]
    if command == ["env"]:
        for key, value in airflow_home.airflow_environment(settings).items():
            out(f"export {key}='{value}'")
        return 0
    db.prepare_database(settings)
    if command == ["standalone"]:
        airflow_home.migrate_metadata(settings)
        out("Airflow UI: http://localhost:8080 (credentials are printed by Airflow below)")
    return airflow_home.run_airflow_cli(settings, command, check=False)


def cmd_dbt(settings: Settings, args: argparse.Namespace) -> int:
    from mdm.transform import run_dbt

    db.prepare_database(settings)
    nodes = run_dbt(settings, warehouse(settings), args.dbt_args or ["build"])
    out(f"dbt: {len(nodes)} nodes ok")
    return 0


def cmd_dbt_sources(settings: Settings, args: argparse.Namespace) -> int:
    from mdm.registry.dbt_sources import write_sources_yml

    out(f"written {write_sources_yml()}")
    return 0


def add_airflow(commands: argparse._SubParsersAction) -> None:
    airflow = commands.add_parser(
        "airflow",
        help="run Airflow with our home and connections (default: standalone UI)",
        description="`mdm airflow` starts `airflow standalone`; `mdm airflow env` prints the "
        "environment to use the airflow CLI directly; any other arguments are "
        "passed to the airflow CLI (e.g. `mdm airflow dags list`).",
    )
    airflow.add_argument("airflow_args", nargs=argparse.REMAINDER)
    airflow.set_defaults(handler=cmd_airflow)


def add_dbt(commands: argparse._SubParsersAction) -> None:
    dbt = commands.add_parser(
        "dbt",
        help="run dbt on the warehouse (default: build)",
        description="Arguments are passed to dbt, e.g. `mdm dbt build --select staging`.",
    )
    dbt.add_argument("dbt_args", nargs=argparse.REMAINDER)
    dbt.set_defaults(handler=cmd_dbt)
    commands.add_parser(
        "dbt-sources", help="regenerate the dbt sources of the raw tables from the registry"
    ).set_defaults(handler=cmd_dbt_sources)
