"""docker-compose.yml, checked for structure since no Docker engine runs here.

It must parse, run Neo4j 5.26 community with a named volume, memory settings and a
cypher-shell healthcheck, and start the API only once Neo4j is healthy, configured through
the same environment variables the service's settings read.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from graph_service.settings import Settings
from tests.conftest import REPO

COMPOSE = REPO / "docker-compose.yml"
_DEFAULTED = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?P<default>[^}]*))?\}")


def resolved(value: str) -> str:
    """The value compose uses when no variable is set: ``${X:-d}`` becomes ``d``."""
    return _DEFAULTED.sub(lambda m: m.group("default") or "", value)


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(key): str(value) for key, value in env.items()}


def ports(service: dict[str, Any]) -> dict[int, int]:
    """Container port -> host port."""
    mapping = {}
    for entry in service.get("ports", []):
        host, _, container = str(entry).rpartition(":")
        mapping[int(container.split("/")[0])] = int(resolved(host).rpartition(":")[2])
    return mapping


def settings_variables() -> set[str]:
    names = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        choices = getattr(alias, "choices", [alias])
        names.update(choice for choice in choices if isinstance(choice, str) and choice.isupper())
    return names


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_services_and_image(compose: dict[str, Any]) -> None:
    assert {"neo4j", "api"} <= set(compose["services"])
    image = compose["services"]["neo4j"]["image"]
    assert re.fullmatch(r"neo4j:5\.26(\.\d+)?-community", image), image
    build = compose["services"]["api"]["build"]
    build = build if isinstance(build, dict) else {"context": build}
    assert build["context"] == "."
    assert (REPO / build.get("dockerfile", "Dockerfile")).is_file()


def test_neo4j_keeps_its_data_in_a_named_volume(compose: dict[str, Any]) -> None:
    mounts = {}
    for entry in compose["services"]["neo4j"]["volumes"]:
        source, target = (entry.split(":")[:2]) if isinstance(entry, str) else (entry["source"], entry["target"])
        mounts[target] = source
    assert "/data" in mounts
    assert mounts["/data"] in (compose.get("volumes") or {}), "the data volume must be a named volume"


def test_neo4j_healthcheck_and_memory(compose: dict[str, Any]) -> None:
    neo4j = compose["services"]["neo4j"]
    test = neo4j["healthcheck"]["test"]
    command = " ".join(test) if isinstance(test, list) else test
    assert "cypher-shell" in command and "RETURN 1" in command
    env = environment(neo4j)
    for setting in ("NEO4J_server_memory_heap_max__size", "NEO4J_server_memory_pagecache_size"):
        assert re.fullmatch(r"\d+[kmgKMG]?", resolved(env[setting])), setting


def size_in_bytes(value: str) -> int:
    """Neo4j's memory sizes: ``2G``, ``512m``, ``1048576``.

    >>> size_in_bytes("2G"), size_in_bytes("1536m")
    (2147483648, 1610612736)
    """
    match = re.fullmatch(r"(\d+)([kmgKMG]?)", value)
    assert match, f"not a Neo4j memory size: {value!r}"
    return int(match[1]) * 1024 ** " kmg".index(match[2].lower() or " ")


def test_neo4j_heap_by_default_fits_a_whole_england_load(compose: dict[str, Any]) -> None:
    # One transaction of 55,798 organisations and 69,439 ties needs at least 1.5 GB (bench/README.md).
    env = environment(compose["services"]["neo4j"])
    heap = resolved(env["NEO4J_server_memory_heap_max__size"])
    assert size_in_bytes(heap) >= 1.5 * 1024**3, heap
    assert resolved(env["NEO4J_server_memory_heap_initial__size"]) == heap, "a fixed heap avoids resizing pauses"


def test_api_waits_for_a_healthy_neo4j(compose: dict[str, Any]) -> None:
    depends = compose["services"]["api"]["depends_on"]
    assert depends["neo4j"]["condition"] == "service_healthy"


def test_api_environment_matches_the_settings_and_the_neo4j_service(compose: dict[str, Any]) -> None:
    api, neo4j = compose["services"]["api"], compose["services"]["neo4j"]
    env = environment(api)
    unknown = set(env) - settings_variables()
    assert not unknown, f"variables the service does not read: {sorted(unknown)}"
    assert env["GRAPH_SERVICE_STORE"] == "neo4j"

    uri = urlsplit(resolved(env["NEO4J_URI"]))
    assert (uri.scheme, uri.hostname, uri.port) in {("bolt", "neo4j", 7687), ("neo4j", "neo4j", 7687)}
    settings = Settings(**{name: resolved(value) for name, value in env.items()})
    assert settings.store.value == "neo4j" and settings.neo4j_uri == resolved(env["NEO4J_URI"])

    # The API logs in with the user and password Neo4j was given.
    auth = environment(neo4j)["NEO4J_AUTH"]
    assert auth == f"{env.get('NEO4J_USER', 'neo4j')}/{env['NEO4J_PASSWORD']}"


def test_ports_are_consistent(compose: dict[str, Any]) -> None:
    api, neo4j = compose["services"]["api"], compose["services"]["neo4j"]
    assert 7687 in ports(neo4j), "Bolt must be published for the CLI and tools"
    command = api.get("command") or []
    command = command.split() if isinstance(command, str) else command
    served = int(command[command.index("--port") + 1]) if "--port" in command else 8000
    assert served in ports(api), f"the API listens on {served} but publishes {sorted(ports(api))}"
    host_ports = [port for service in (api, neo4j) for port in ports(service).values()]
    assert len(host_ports) == len(set(host_ports)), "two services publish the same host port"
