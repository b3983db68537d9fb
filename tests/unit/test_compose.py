"""The production stack, docker-compose.yml and the Dockerfile, checked without a Docker engine.

Each test is something a deployer would otherwise find out from `docker compose up`: a service
missing, an address that names no service, a variable the code no longer reads, an image that
moves under them, a Redis that forgets everything on restart, a replica that cannot be scaled,
a proxy that drops WebSockets, a scrape target on the wrong port, a dashboard panel that names
no metric the code exports. Values are read as Compose would with no .env file:
`${NAME:-default}` becomes its default.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any, get_args
from urllib.parse import urlparse

import pytest
import yaml

from devstack.services import SEARCH_ATTRIBUTES
from foundations import metrics
from foundations.settings import Settings
from tests.monitoring import (
    ALERTS,
    PROMETHEUS_LABELS,
    PROMETHEUS_SERIES,
    platform_series,
    shipped_queries,
)

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
DEPLOY = ROOT / "deploy"
NGINX_CONF = DEPLOY / "nginx" / "chat.conf"
PROMETHEUS_CONF = DEPLOY / "prometheus" / "prometheus.yml"
GRAFANA = DEPLOY / "grafana"

NEEDED_SERVICES = {
    "postgresql", "temporal", "temporal-ui", "redis", "api", "worker", "proxy", "prometheus",
    "grafana",
}  # fmt: skip
# Run as several containers each (`--scale`): no fixed host port, no container_name.
SCALED_SERVICES = {"api", "worker"}
REPLY_OUTCOMES = {"completed", "cancelled", "failed", "restarted"}
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


def test_the_api_listens_where_the_proxy_prometheus_and_its_healthcheck_reach_it(
    services: dict[str, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = services["api"]
    settings = settings_of(api, monkeypatch)
    assert settings.api_host == "0.0.0.0", "on 127.0.0.1 the API is unreachable from outside"
    assert proxy_upstream() == f"http://api:{settings.api_port}"
    assert scrape_ports()["api"] == {settings.api_port}
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
        assert "@sha256:" in image or re.match(r"v?\d+\.\d+", tag), f"{image} is not pinned"


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


# --- Scaling out: the proxy, Prometheus and Grafana --------------------------------------------

Directive = tuple[str, list[str]]


@dataclasses.dataclass
class NginxBlock:
    """One `{...}` of an nginx config: its directives in order and the blocks inside it."""

    args: list[str] = dataclasses.field(default_factory=list)
    directives: list[Directive] = dataclasses.field(default_factory=list)
    blocks: list[tuple[str, NginxBlock]] = dataclasses.field(default_factory=list)

    def values(self, name: str) -> list[list[str]]:
        return [args for directive, args in self.directives if directive == name]

    def block(self, name: str, *args: str) -> NginxBlock:
        found = [b for n, b in self.blocks if n == name and b.args[: len(args)] == list(args)]
        assert len(found) == 1, f"expected one `{name} {' '.join(args)}` block"
        return found[0]


def parse_nginx(text: str) -> NginxBlock:
    tokens = re.findall(r'"[^"]*"|\'[^\']*\'|[{};]|[^\s{};]+', re.sub(r"#[^\n]*", "", text))
    stack, words = [NginxBlock()], list[str]()
    for token in tokens:
        if token == ";":
            stack[-1].directives.append((words[0], words[1:]))
            words = []
        elif token == "{":
            block = NginxBlock(words[1:])
            stack[-1].blocks.append((words[0], block))
            stack.append(block)
            words = []
        elif token == "}":
            assert not words, f"unterminated directive {words}"
            stack.pop()
        else:
            words.append(token.strip("\"'"))
    assert len(stack) == 1 and not words, "unbalanced braces in the nginx config"
    return stack[0]


def nginx_server() -> NginxBlock:
    return parse_nginx(NGINX_CONF.read_text()).block("server")


def proxy_upstream() -> str:
    """Where the proxy sends requests: `proxy_pass` through the variable the server sets."""
    server = nginx_server()
    variables = {args[0]: args[1] for args in server.values("set")}
    targets = {
        variables.get(args[0], args[0])
        for _, location in server.blocks
        for args in location.values("proxy_pass")
    }
    assert len(targets) == 1, f"the proxy sends to several places: {targets}"
    return targets.pop()


def prometheus_config() -> dict[str, Any]:
    loaded = yaml.safe_load(PROMETHEUS_CONF.read_text())
    assert isinstance(loaded, dict)
    return loaded


def scrape_ports() -> dict[str, set[int]]:
    """The ports Prometheus scrapes on each service, found by Docker DNS service discovery."""
    ports: dict[str, set[int]] = {}
    for job in prometheus_config()["scrape_configs"]:
        assert not job.get("static_configs"), f"{job['job_name']}: a fixed target misses replicas"
        for discovery in job["dns_sd_configs"]:
            assert discovery.get("type", "SRV") == "A", "Docker's DNS answers A records"
            for name in discovery["names"]:
                ports.setdefault(name, set()).add(int(discovery["port"]))
    return ports


def mounts(service: Service) -> dict[str, Path]:
    """Bind mounts of files in this repository: container path -> repository path."""
    found = {}
    for entry in service.get("volumes") or []:
        source, target = str(entry).split(":")[:2]
        if source.startswith("./"):
            found[target] = (ROOT / source).resolve()
    return found


def test_scaled_services_have_no_host_port_or_container_name(
    services: dict[str, Service],
) -> None:
    # Two replicas cannot bind one host port or share a container name: `--scale` would fail.
    for name in SCALED_SERVICES:
        assert not services[name].get("ports"), f"{name} publishes a host port"
        assert "container_name" not in services[name], f"{name} has a container_name"


def test_the_proxy_is_the_public_address_the_allowed_origins_name(
    services: dict[str, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = services["proxy"]
    assert interpolate(proxy["image"]).startswith("nginx:")
    assert mounts(proxy)["/etc/nginx/conf.d/default.conf"] == NGINX_CONF
    listen = {int(args[0].rsplit(":", 1)[-1]) for args in nginx_server().values("listen")}
    published = {
        int(str(entry).split(":")[-2]): int(str(entry).split(":")[-1]) for entry in proxy["ports"]
    }
    # The page's origin is the proxy's address, and the API admits only the allowed origins.
    for origin in settings_of(services["api"], monkeypatch).allowed_origins:
        port = urlparse(origin).port or 80
        assert published.get(port) in listen, f"{origin} is not served by the proxy"


def test_the_proxy_upgrades_websockets_to_any_replica_and_keeps_metrics_private() -> None:
    server = nginx_server()
    sockets = server.block("location", "/api/ws/")
    headers = {args[0].lower(): args[1] for args in sockets.values("proxy_set_header")}
    assert headers["upgrade"] == "$http_upgrade"
    connection = headers["connection"]
    if connection.startswith("$"):  # a map from $http_upgrade, as nginx's docs show
        top = parse_nginx(NGINX_CONF.read_text())
        upgrade_map = top.block("map", "$http_upgrade", connection)
        assert [args for name, args in upgrade_map.directives if name == "default"] == [["upgrade"]]
    else:
        assert connection.lower() == "upgrade"
    versions = sockets.values("proxy_http_version") or server.values("proxy_http_version")
    assert versions == [["1.1"]], "WebSocket upgrades need HTTP/1.1 to the replica"
    # nginx closes a socket quiet for proxy_read_timeout (60 s by default).
    timeout = (sockets.values("proxy_read_timeout") or [["60s"]])[0][0]
    assert timeout.endswith(("m", "h")), f"proxy_read_timeout {timeout} cuts quiet sockets"
    # The client address the API rate-limits by is the proxy's peer, never a client's header.
    for _, location in server.blocks:
        if location.values("proxy_pass"):
            forwarded = {a[0].lower(): a[1] for a in location.values("proxy_set_header")}
            assert forwarded.get("x-forwarded-for") == "$remote_addr", location.args
            assert forwarded.get("forwarded") == "", f"{location.args} passes on Forwarded"
    sticky = {"ip_hash", "hash", "sticky"}
    assert not sticky & {n for n, _ in server.directives}, "sessions must not stick to a replica"
    assert server.block("location", "=", "/metrics").values("return") == [["404"]]


def test_nginx_accepts_the_proxy_config(tmp_path: Path) -> None:
    nginx = shutil.which("nginx")
    if nginx is None:
        pytest.skip("nginx is not installed")
    # The image's nginx.conf includes conf.d/*.conf inside `http { }`, as this one does.
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  include {NGINX_CONF};\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-q", "-p", f"{tmp_path}/", "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def test_prometheus_scrapes_every_replica_at_the_metrics_ports(
    services: dict[str, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    prometheus = services["prometheus"]
    assert mounts(prometheus)["/etc/prometheus/prometheus.yml"] == PROMETHEUS_CONF
    for rules in prometheus_config().get("rule_files", []):
        assert mounts(prometheus)[f"/etc/prometheus/{rules}"] == PROMETHEUS_CONF.parent / rules

    worker = settings_of(services["worker"], monkeypatch)
    defaults = Settings.model_fields
    expected = {worker.worker_metrics_port, worker.temporal_metrics_port}
    assert expected == {
        defaults["worker_metrics_port"].default,
        defaults["temporal_metrics_port"].default,
    }
    assert scrape_ports()["worker"] == expected
    # The worker binds its metrics servers to loopback unless told otherwise.
    assert worker.metrics_host == "0.0.0.0", "Prometheus in its container cannot reach the worker"
    assert set(scrape_ports()) == {"api", "worker"}


def test_promtool_accepts_the_prometheus_config_and_alerts() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed")
    result = subprocess.run(
        [promtool, "check", "config", str(PROMETHEUS_CONF)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_grafana_provisions_the_prometheus_datasource_and_the_dashboards(
    services: dict[str, Service],
) -> None:
    grafana = services["grafana"]
    mounted = mounts(grafana)
    provisioning = mounted["/etc/grafana/provisioning"]
    assert provisioning == GRAFANA / "provisioning"

    (datasource,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    url = urlparse(datasource["url"])
    assert url.hostname == "prometheus" and url.hostname in services
    assert url.port == 9090

    (provider,) = yaml.safe_load((provisioning / "dashboards" / "chat.yml").read_text())[
        "providers"
    ]
    dashboards = mounted[provider["options"]["path"]]
    assert dashboards == GRAFANA / "dashboards"
    home = environment(grafana)["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (dashboards / Path(home).relative_to(provider["options"]["path"])).is_file()
    for path in dashboards.glob("*.json"):
        for panel in json.loads(path.read_text())["panels"]:
            assert panel["datasource"]["uid"] == datasource["uid"], panel["title"]


def test_the_dashboard_shows_what_an_operator_watches() -> None:
    dashboard = " ".join(q.expr for q in shipped_queries() if ".json:" in q.where)
    for needed in (
        "histogram_quantile(0.5, sum by (le, agent_type) (rate(chat_time_to_first_chunk_seconds",
        "histogram_quantile(0.99, sum by (le, agent_type) (rate(chat_time_to_first_chunk_seconds",
        "rate(chat_turn_duration_seconds_count",
        'chat_replies_total{outcome=~"failed|restarted"}',
        "chat_live_sockets",
        "temporal_worker_task_slots_available",
    ):
        assert needed in dashboard, f"no panel shows {needed}"


def test_every_dashboard_and_alert_query_names_metrics_the_platform_exports() -> None:
    """`chat_*` names against foundations/metrics.py; the `temporal_*` ones are held to a real
    worker's scrape in tests/integration/test_dashboard_metrics.py."""
    series = platform_series() | PROMETHEUS_SERIES
    # The code records reply outcomes as literals; its help text names each of them.
    assert all(outcome in metrics.REPLIES._documentation for outcome in REPLY_OUTCOMES)
    label_values = {
        ("chat_messages_total", "outcome"): set(get_args(metrics.MessageOutcome)),
        ("chat_replies_total", "outcome"): REPLY_OUTCOMES,
    }
    queries = list(shipped_queries())
    assert queries
    for query in queries:
        assert query.metrics, f"{query.where}: {query.expr} names no metric"
        platform = {name for name in query.metrics if not name.startswith("temporal_")}
        unknown = platform - set(series)
        assert not unknown, f"{query.where}: {sorted(unknown)} are not exported"
        for name, label, operator, value in query.matchers:
            if name in series:
                assert label in series[name] | PROMETHEUS_LABELS, (
                    f"{query.where}: {name}{{{label}}}"
                )
            allowed = label_values.get((name, label))
            if allowed and operator in ("=", "=~"):
                assert set(value.split("|")) <= allowed, f"{query.where}: {label}={value}"
        if platform == query.metrics:
            labels = set().union(*(series[name] for name in platform)) | PROMETHEUS_LABELS
            assert query.grouping_labels <= labels, f"{query.where}: groups by unknown labels"


def test_the_operations_doc_explains_every_metric_and_alert() -> None:
    doc = " ".join((ROOT / "docs" / "operations.md").read_text().split())
    for collector in metrics.EDGE_METRICS + metrics.WORKER_METRICS:
        for family in collector.collect():
            name = f"{family.name}_total" if family.type == "counter" else family.name
            assert f"`{name}`" in doc, f"docs/operations.md does not explain {name}"
    for group in yaml.safe_load(ALERTS.read_text())["groups"]:
        for rule in group["rules"]:
            expr = " ".join(rule["expr"].split())
            assert f"`{rule['alert']}` | `{expr}`" in doc, f"{rule['alert']} differs in the doc"


def test_the_api_trusts_the_proxy_for_client_addresses(
    services: dict[str, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind the proxy every connection comes from the proxy's address: unless the API trusts
    it to name the client, per-client limits would count every user as one."""
    if "trusted_proxies" not in Settings.model_fields:
        pytest.skip("this version keys no limits by client address")
    entries = settings_of(services["api"], monkeypatch).model_dump()["trusted_proxies"]
    trusted = [ipaddress.ip_network(entry, strict=False) for entry in entries]
    # Docker gives Compose networks addresses from these private ranges; the proxy overwrites
    # X-Forwarded-For, so trusting them lets no client pick its own address.
    for pool in map(ipaddress.IPv4Network, ("172.16.0.0/12", "192.168.0.0/16")):
        assert any(
            isinstance(network, ipaddress.IPv4Network) and pool.subnet_of(network)
            for network in trusted
        ), f"{pool} is not trusted"
    assert all(network.is_private for network in trusted), "a public network is trusted"
