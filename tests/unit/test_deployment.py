"""docker-compose.yml, Dockerfile and .env.example agree with the code.

There is no Docker engine on the build machines, so what can drift is checked
here: service names, the executor and its provider, Airflow options (each must
be an option of the installed Airflow and providers), the connection ids the
DAGs use, the MDM_* variables the code reads, paths inside the image, shared
volumes, secrets only from .env, and the Dockerfile's install step against the
Makefile's.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from mdm.settings import FRONTEND_CONN_ID, PROJECT_ROOT, WAREHOUSE_CONN_ID, load_settings

pytestmark = pytest.mark.unit

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
MAKEFILE = PROJECT_ROOT / "Makefile"

AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
}
# ${NAME}, ${NAME:-default}, ${NAME:?message}; $${NAME} is a literal for the container shell.
_INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)(?:(:?[-?])((?:[^{}]|\{[^{}]*\})*))?\}")


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's interpolation of ``${...}`` (nested defaults included), for the checks."""
    while True:
        replaced = _INTERPOLATION.sub(
            lambda m: env.get(m.group(1)) or _interpolate(m.group(3) or "", env), value
        )
        if replaced == value:
            return value.replace("$$", "$")
        value = replaced


def _example_env() -> dict[str, str]:
    env = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def _service_env(service: str) -> dict[str, str]:
    environment = _compose()["services"][service]["environment"]
    env = _example_env()
    return {key: _interpolate(str(value), env) for key, value in environment.items()}


def test_the_stack_has_every_service_and_dependencies_point_at_services():
    services = _compose()["services"]
    assert set(services) == {"postgres", "redis", *AIRFLOW_SERVICES}
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown service {dependency}"
    for name in ("postgres", "redis"):
        assert "healthcheck" in services[name], f"{name} needs a health check"
    assert any(v.startswith("postgres-data:") for v in services["postgres"]["volumes"])


def test_every_airflow_service_runs_our_image_built_from_the_dockerfile():
    services = _compose()["services"]
    images = {services[name]["image"] for name in AIRFLOW_SERVICES}
    assert len(images) == 1
    for name in AIRFLOW_SERVICES:
        build = services[name]["build"]
        assert (PROJECT_ROOT / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE


def test_commands_exist_in_the_installed_airflow_and_mdm_clis():
    from airflow.cli.cli_parser import get_parser

    from mdm.cli import build_parser

    airflow_parser, mdm_parser = get_parser(), build_parser()
    services = _compose()["services"]
    for name in AIRFLOW_SERVICES:
        command = services[name]["command"]
        if command[:2] == ["bash", "-c"]:
            steps = [shlex.split(step) for step in command[2].split("&&")]
        else:
            steps = [command]
        for step in steps:
            program, args = step[0], step[1:]
            assert program in {"airflow", "mdm"}, f"{name}: unexpected program {program}"
            parser = airflow_parser if program == "airflow" else mdm_parser
            try:
                parser.parse_args(args)
            except SystemExit as exc:  # argparse exits on unknown commands
                pytest.fail(f"{name}: `{' '.join(step)}` is not a command ({exc})")


def test_celery_executor_with_its_provider_installed_and_scalable_workers():
    env = _service_env("airflow-worker")
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert importlib.util.find_spec("airflow.providers.celery") is not None
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert "@redis:6379" in env["AIRFLOW__CELERY__BROKER_URL"]
    worker = _compose()["services"]["airflow-worker"]
    # --scale needs no fixed name and no host port.
    assert "container_name" not in worker and "ports" not in worker


def test_every_airflow_option_set_is_an_option_of_the_installed_airflow():
    from airflow.configuration import conf

    known = conf.configuration_description
    for name in AIRFLOW_SERVICES:
        for key in _service_env(name):
            if not key.startswith("AIRFLOW__"):
                continue
            section, option = key.removeprefix("AIRFLOW__").lower().split("__", 1)
            assert option in known.get(section, {}).get("options", {}), (
                f"{name}: {key} is not an option of this Airflow ({section}.{option})"
            )


def test_the_connections_the_dags_use_are_defined_on_every_airflow_service():
    for name in AIRFLOW_SERVICES:
        env = _service_env(name)
        for conn_id in (WAREHOUSE_CONN_ID, FRONTEND_CONN_ID):
            uri = env.get(f"AIRFLOW_CONN_{conn_id.upper()}", "")
            assert uri.startswith("postgres://"), f"{name}: connection {conn_id} missing"
        warehouse = env[f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}"]
        # The CLI (MDM_DATABASE_URL) and the DAGs (the connection) reach the same warehouse.
        settings = load_settings(env)
        assert settings.external_database_url is not None
        assert settings.external_database_url.split("://", 1)[1] == warehouse.split("://", 1)[1]
        assert settings.warehouse_db == "mdm"


def test_mdm_variables_are_ones_the_code_reads_and_the_required_ones_are_set():
    code = "\n".join(p.read_text() for p in (PROJECT_ROOT / "plugins" / "mdm").rglob("*.py"))
    read_by_code = set(re.findall(r"\"(MDM_[A-Z_]+)\"", code))
    for name in AIRFLOW_SERVICES:
        env = _service_env(name)
        mdm_vars = {key for key in env if key.startswith("MDM_")}
        assert mdm_vars <= read_by_code, f"{name}: unknown {sorted(mdm_vars - read_by_code)}"
        assert {
            "MDM_DATABASE_URL",
            "MDM_LANDING_DIR",
            "MDM_SHARED_DIR",
            "MDM_PSEUDONYM_KEY",
        } <= mdm_vars


def test_paths_are_inside_the_image_and_shared_state_is_on_volumes_every_worker_mounts():
    dockerfile = DOCKERFILE.read_text()
    workdir = re.search(r"^WORKDIR (\S+)", dockerfile, re.MULTILINE)
    assert workdir is not None
    for folder in ("dags", "plugins", "dbt_project", "expectations"):
        assert re.search(rf"^COPY {folder}/ {folder}/", dockerfile, re.MULTILINE)
    compose = _compose()
    named_volumes = set(compose["volumes"])
    for name in AIRFLOW_SERVICES:
        env = _service_env(name)
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == f"{workdir.group(1)}/dags"
        assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == f"{workdir.group(1)}/plugins"
        mounts = {}
        for volume in compose["services"][name]["volumes"]:
            source, target = volume.split(":")[:2]
            mounts[target] = source
        settings = load_settings(env)
        for shared in (
            str(settings.landing_dir),
            str(settings.shared_dir),
            env["AIRFLOW__LOGGING__BASE_LOG_FOLDER"],
        ):
            assert mounts.get(shared) in named_volumes, f"{name}: {shared} is not on a volume"


def test_secrets_come_from_env_and_the_example_lists_each_one_without_a_value():
    text = COMPOSE.read_text()
    required = {m.group(1) for m in _INTERPOLATION.finditer(text) if m.group(2) in (None, ":?")}
    example = _example_env()
    assert required <= set(example), f"not in .env.example: {sorted(required - set(example))}"
    for key, value in example.items():
        if any(word in key for word in ("PASSWORD", "KEY", "SECRET")):
            assert value == "change-me", f".env.example must not carry a real {key}"
    assert ".env" in (PROJECT_ROOT / ".gitignore").read_text().split()
    # No literal password in the compose file: every credential is interpolated.
    for match in re.finditer(r"://(\w+):([^@${]+)@", text):
        pytest.fail(f"a literal password in docker-compose.yml: {match.group(0)}")


def test_the_dockerfile_installs_the_same_pinned_lock_as_the_makefile():
    dockerfile, makefile = DOCKERFILE.read_text(), MAKEFILE.read_text()
    docker_pip = re.search(r"^ARG PIP_VERSION=(\S+)", dockerfile, re.MULTILINE)
    make_pip = re.search(r"^PIP_VERSION := (\S+)", makefile, re.MULTILINE)
    assert docker_pip and make_pip and docker_pip.group(1) == make_pip.group(1)
    assert 'pip install --no-cache-dir "pip==${PIP_VERSION}"' in dockerfile
    assert '"pip==$(PIP_VERSION)"' in makefile
    # The project and its lock: the Makefile adds only the dev tools (extra "dev").
    assert "pip install --no-cache-dir -c constraints.txt -e ." in dockerfile
    assert '-c constraints.txt -e ".[dev]"' in makefile
    assert re.search(r"^COPY pyproject.toml constraints.txt", dockerfile, re.MULTILINE)


def test_the_postgres_init_script_creates_the_databases_the_services_use():
    script = (PROJECT_ROOT / "deploy" / "postgres-init.sh").read_text()
    created = set(re.findall(r"create database (\w+)", script))
    env = _service_env("airflow-scheduler")
    used = {
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].rsplit("/", 1)[1],
        env[f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}"].rsplit("/", 1)[1],
        env[f"AIRFLOW_CONN_{FRONTEND_CONN_ID.upper()}"].rsplit("/", 1)[1],
        env["MDM_AIRFLOW_DB"],
        env["MDM_FRONTEND_DB"],
    }
    assert used <= created
    assert Path(PROJECT_ROOT / "deploy" / "postgres-init.sh").stat().st_mode & 0o111


def test_the_stack_refuses_placeholder_secrets_and_an_embedded_server_at_start_up():
    """airflow-init (every other service waits for it) starts with `mdm db start`, which in
    production refuses the placeholders of .env.example and a missing MDM_DATABASE_URL."""
    from mdm.cli import build_parser
    from mdm.cli.database import cmd_db_start
    from mdm.settings import PLACEHOLDER_SECRETS, placeholder_secrets

    services = _compose()["services"]
    command = services["airflow-init"]["command"]
    assert command[:2] == ["bash", "-c"]
    first = shlex.split(command[2].split("&&")[0])
    assert build_parser().parse_args(first[1:]).handler is cmd_db_start
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        assert services[name]["depends_on"]["airflow-init"] == {
            "condition": "service_completed_successfully"
        }
    env = _service_env("airflow-init")
    settings = load_settings(env)
    assert settings.is_production and not settings.uses_embedded_database
    # With .env.example as it is, every secret the init service sees is refused...
    assert {"MDM_DATABASE_URL", "MDM_PSEUDONYM_KEY", "AIRFLOW__CORE__FERNET_KEY"} <= set(
        placeholder_secrets(env)
    )
    # ... and with real values none is.
    real = {key: f"real-{key.lower()}-Zq3kd8" for key in _example_env()}
    real["AIRFLOW_ADMIN_USER"] = "admin"
    raw = services["airflow-init"]["environment"]
    assert placeholder_secrets({k: _interpolate(str(v), real) for k, v in raw.items()}) == []
    # The PostgreSQL container checks the passwords only it sees against the same list.
    script = (PROJECT_ROOT / "deploy" / "postgres-init.sh").read_text()
    listed = re.search(r'case "\$\{!name,,\}" in\n\s+(.+)\)', script)
    assert listed is not None
    assert set(listed.group(1).split("|")) - {'""'} == PLACEHOLDER_SECRETS
    assert "POSTGRES_PASSWORD" in script.split("for name in", 1)[1].split(";", 1)[0]
