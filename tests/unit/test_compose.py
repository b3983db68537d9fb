"""The production stack, docker-compose.yml and the Dockerfile, checked without a Docker engine.

Each test is something a deployer would otherwise find out from `docker compose up`: a service
missing, an address that names no service, a variable the code no longer reads, an image that
moves under them, a Redis that forgets everything on restart. Values are read as Compose would
with no .env file: `${NAME:-default}` becomes its default.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from devstack.services import SEARCH_ATTRIBUTES
from foundations.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

NEEDED_SERVICES = {"postgresql", "temporal", "temporal-ui", "redis", "api", "worker"}
PLATFORM_COMMANDS = {"api": ["python", "-m", "api"], "worker": ["python", "-m", "workers"]}
TEMPORAL_GRPC_PORT = 7233
REDIS_PORT = 6379

Service = dict[str, Any]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Service]:
    found = compose["services"]
    assert isinstance(found, dict)
    return found


def interpolate(value: str) -> str:
    """Compose's variable substitution with an empty environment."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, default = match.group(1, 2, 3)
        if operator is not None and "?" in operator:
            pytest.fail(f"${{{name}}} must be set to deploy; give it a default")
        return default or ""

    return re.sub(r"\$\$|\$\{(\w+)(:?[-?])?([^}]*)\}|\$(\w+)", substitute, value)


def environment(service: Service) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) if "=" in item else (item, None) for item in raw)
    # A bare name passes the host's value through; with an empty environment it stays unset.
    return {name: interpolate(str(value)) for name, value in raw.items() if value is not None}


def settings_of(service: Service, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The Settings the process in this service would read at start-up."""
    for field in Settings.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
        monkeypatch.delenv(field, raising=False)
    for name, value in environment(service).items():
        monkeypatch.setenv(name, value)
    return Settings()


def as_argv(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions, continuation lines joined, grouped by FROM."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, argument = line.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        assert stages, f"instruction before the first FROM: {line}"
        stages[-1].append((keyword.upper(), argument.strip()))
    return stages


def effective_command(service: Service) -> list[str]:
    """What the container runs: the service's entrypoint and command, else the image's CMD."""
    entrypoint = as_argv(service.get("entrypoint") or [])
    if "command" in service:
        return entrypoint + as_argv(service["command"])
    commands = [argument for keyword, argument in dockerfile_stages()[-1] if keyword == "CMD"]
    assert commands, "the Dockerfile's last stage has no CMD"
    last = commands[-1]
    cmd = [str(part) for part in json.loads(last)] if last.startswith("[") else shlex.split(last)
    return entrypoint + cmd


def depends_on(service: Service) -> dict[str, str]:
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return dict.fromkeys(raw, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in raw.items()}


def one_shot_services(services: dict[str, Service]) -> set[str]:
    """Services others wait on to finish, rather than to be up."""
    return {
        name
        for service in services.values()
        for name, condition in depends_on(service).items()
        if condition == "service_completed_successfully"
    }


def argument_after(argv: list[str], flag: str) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv[:-1] else None


def container_ports(service: Service) -> set[int]:
    ports = set()
    for entry in service.get("ports") or []:
        target = entry["target"] if isinstance(entry, dict) else str(entry).rsplit(":", 1)[-1]
        ports.add(int(str(target).split("/")[0]))
    return ports


def test_every_service_the_platform_needs_is_defined(services: dict[str, Service]) -> None:
    assert not NEEDED_SERVICES - set(services), f"missing: {NEEDED_SERVICES - set(services)}"


@pytest.mark.parametrize("name", sorted(PLATFORM_COMMANDS))
def test_api_and_worker_reach_temporal_and_redis_at_services_in_the_file(
    services: dict[str, Service], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_of(services[name], monkeypatch)

    temporal_host, _, temporal_port = settings.temporal_address.rpartition(":")
    assert temporal_host in services, f"{name}: TEMPORAL_ADDRESS names no service"
    assert services[temporal_host]["image"].startswith(
        ("temporalio/server:", "temporalio/auto-setup:")
    )
    listening = environment(services[temporal_host]).get("FRONTEND_GRPC_PORT", TEMPORAL_GRPC_PORT)
    assert int(temporal_port) == int(listening)

    redis = urlparse(settings.redis_url)
    assert redis.scheme == "redis"
    assert redis.hostname in services, f"{name}: REDIS_URL names no service"
    redis_argv = as_argv(services[redis.hostname].get("command") or [])
    assert (redis.port or REDIS_PORT) == int(argument_after(redis_argv, "--port") or REDIS_PORT)


def test_api_worker_and_temporal_setup_agree_on_namespace_and_task_queue(
    services: dict[str, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = settings_of(services["api"], monkeypatch)
    worker = settings_of(services["worker"], monkeypatch)
    shared = ("temporal_address", "temporal_namespace", "task_queue", "redis_url")
    assert {f: getattr(api, f) for f in shared} == {f: getattr(worker, f) for f in shared}
    namespaces = {
        name: environment(service)["TEMPORAL_NAMESPACE"]
        for name, service in services.items()
        if "namespace create" in str(service.get("command"))
    }
    assert namespaces, "no service creates the Temporal namespace"
    assert set(namespaces.values()) == {api.temporal_namespace}


@pytest.mark.parametrize("name", sorted(PLATFORM_COMMANDS))
def test_every_variable_set_on_api_and_worker_is_a_setting(
    services: dict[str, Service], name: str
) -> None:
    # Settings ignores unknown variables, so a renamed setting would be silently dropped.
    fields = {field.upper() for field in Settings.model_fields}
    unknown = {variable.upper() for variable in environment(services[name])} - fields
    assert not unknown, f"{name} sets variables foundations.settings.Settings does not read"


def test_the_api_listens_where_it_is_published_and_health_checked(
    services: dict[str, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = services["api"]
    settings = settings_of(api, monkeypatch)
    assert settings.api_host == "0.0.0.0", "on 127.0.0.1 the API is unreachable from outside"
    assert settings.api_port in container_ports(api)
    probe = " ".join(as_argv(api["healthcheck"]["test"]))
    check = re.search(r"http://[\w.]+:(\d+)/(readyz|healthz)", probe)
    assert check is not None, "the api's healthcheck does not call /readyz or /healthz"
    assert int(check.group(1)) == settings.api_port


def test_redis_and_postgresql_keep_their_data_on_named_volumes(
    compose: dict[str, Any], services: dict[str, Service]
) -> None:
    volumes = set(compose.get("volumes") or {})

    def mounts(service: Service) -> dict[str, str]:
        return {
            entry.split(":")[1]: entry.split(":")[0]
            for entry in service.get("volumes") or []
            if ":" in entry
        }

    redis_argv = as_argv(services["redis"]["command"])
    assert argument_after(redis_argv, "--appendonly") == "yes"
    redis_dir = argument_after(redis_argv, "--dir") or "/data"
    assert mounts(services["redis"]).get(redis_dir) in volumes

    # PostgreSQL 18 images keep their data one level up; a mount at the old path loses it.
    major = int(services["postgresql"]["image"].split(":")[1].split(".")[0])
    pgdata = "/var/lib/postgresql" if major >= 18 else "/var/lib/postgresql/data"
    assert mounts(services["postgresql"]).get(pgdata) in volumes


def test_redis_memory_is_capped_and_never_evicts_live_data(services: dict[str, Service]) -> None:
    redis_argv = as_argv(services["redis"]["command"])
    assert argument_after(redis_argv, "--maxmemory")
    assert argument_after(redis_argv, "--maxmemory-policy") == "noeviction"


def test_every_image_is_pinned(services: dict[str, Service]) -> None:
    # FROM [--platform=...] image [AS name]
    froms = [
        [w for w in stage[0][1].split() if not w.startswith("--")] for stage in dockerfile_stages()
    ]
    stage_names = {words[2].lower() for words in froms if len(words) == 3}
    images = [words[0] for words in froms if words[0].lower() not in stage_names]
    images += [
        interpolate(s["image"]) for s in services.values() if "image" in s and "build" not in s
    ]
    for image in images:
        _, _, tag = image.partition("@")[0].rpartition(":")
        assert "@sha256:" in image or re.match(r"\d+\.\d+", tag), f"{image} is not pinned"


def test_depends_on_names_services_whose_condition_can_be_met(
    services: dict[str, Service],
) -> None:
    for name, service in services.items():
        for dependency, condition in depends_on(service).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            if condition == "service_healthy":
                check = services[dependency].get("healthcheck") or {}
                assert check.get("test") and not check.get("disable"), (
                    f"{name} waits for {dependency} to be healthy, which has no healthcheck"
                )


def test_long_running_services_restart_and_one_shots_finish(
    services: dict[str, Service],
) -> None:
    one_shots = one_shot_services(services)
    assert not one_shots & NEEDED_SERVICES, "a service the platform needs would exit"
    for name, service in services.items():
        policy = str(service.get("restart", "no"))
        if name in one_shots:
            assert policy == "no" or policy.startswith("on-failure"), f"{name} would loop"
        else:
            assert policy in ("always", "unless-stopped"), f"{name} stays down after a crash"


def test_api_and_worker_run_the_platform_processes_from_this_dockerfile(
    services: dict[str, Service],
) -> None:
    for name, argv in PLATFORM_COMMANDS.items():
        service = services[name]
        build = service.get("build")
        context, dockerfile = (
            (build, "Dockerfile")
            if isinstance(build, str)
            else ((build or {}).get("context"), (build or {}).get("dockerfile", "Dockerfile"))
        )
        assert (ROOT / str(context) / dockerfile).resolve() == DOCKERFILE, name
        assert effective_command(service) == argv


def test_search_attributes_are_registered_before_api_and_worker_start(
    services: dict[str, Service],
) -> None:
    registrars = [
        name
        for name, service in services.items()
        if "search-attribute create" in str(service.get("command"))
    ]
    assert len(registrars) == 1, "exactly one service should register the search attributes"
    (registrar,) = registrars
    command = " ".join(as_argv(services[registrar]["command"]))
    for attribute, kind in SEARCH_ATTRIBUTES.items():
        assert re.search(rf"--name\s+{attribute}\s+--type\s+{kind}\b", command), attribute
    for name in PLATFORM_COMMANDS:
        assert depends_on(services[name]).get(registrar) == "service_completed_successfully"


def test_temporal_reaches_its_database_with_the_same_credentials(
    services: dict[str, Service],
) -> None:
    database = environment(services["postgresql"])
    server = environment(services["temporal"])
    assert server["DB"].startswith("postgres")
    assert server["POSTGRES_SEEDS"] in services
    assert services[server["POSTGRES_SEEDS"]]["image"].startswith("postgres:")
    assert (server["POSTGRES_USER"], server["POSTGRES_PWD"]) == (
        database["POSTGRES_USER"],
        database["POSTGRES_PASSWORD"],
    )
    schema = [s for s in services.values() if "temporal-sql-tool" in str(s.get("command"))]
    assert schema, "no service sets up Temporal's schema"
    for tool in map(environment, schema):
        assert tool["SQL_HOST"] == server["POSTGRES_SEEDS"]
        assert (tool["SQL_USER"], tool["SQL_PASSWORD"]) == (
            server["POSTGRES_USER"],
            server["POSTGRES_PWD"],
        )


def test_the_image_runs_as_a_user_with_runtime_requirements_and_the_chat_page() -> None:
    runtime = dockerfile_stages()[-1]
    users = [argument for keyword, argument in runtime if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image runs as root"
    runs = " ".join(argument for keyword, argument in runtime if keyword == "RUN")
    assert "requirements.txt" in runs
    assert "requirements-dev.txt" not in runs
    copies = [argument for keyword, argument in runtime if keyword == "COPY"]
    assert any(c.startswith("--from=") and c.endswith("frontend/dist") for c in copies)


def test_dockerignore_keeps_host_environments_and_secrets_out() -> None:
    patterns = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text().splitlines()}
    assert {".venv", "**/node_modules", ".env"} <= patterns


def compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


def test_docker_compose_accepts_the_file() -> None:
    cli = compose_cli()
    if cli is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    result = subprocess.run(
        [*cli, "--file", str(COMPOSE_FILE), "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
