"""``graph-service demo``: the bundled sample on its own store file, served, with ``/viz/`` as the start.

A second run changes nothing: when the store already holds the sample, only the newest
extract is loaded again, which the loader reports as "0 created, 0 updated" (loading the
older January file again would first roll the schools back and then forward).
"""

from __future__ import annotations

import errno
import shlex
import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from graph_service.settings import Settings, StoreKind
from graph_service.store import GraphStore, WriteResult

#: The data date the loaders record for the sample's newest extract (edubasealldata20250718).
SAMPLE_DATA_DATE = "2025-07-18"
DEMO_DB_NAME = "demo.sqlite3"


class PortBusy(Exception):
    """The demo's address is taken: said before anything is loaded."""


def demo_settings(settings: Settings) -> Settings:
    """The settings the demo runs with: its own store file unless ``GRAPH_SERVICE_DB`` names one.

    >>> s = demo_settings(Settings(GRAPH_SERVICE_DB="/tmp/x.sqlite3"))
    >>> str(s.db_path)
    '/tmp/x.sqlite3'
    """
    if settings.store is not StoreKind.EMBEDDED or "db_path" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"db_path": settings.db_path.with_name(DEMO_DB_NAME)})


def where(settings: Settings) -> str:
    """The store in words, for the demo's first line."""
    if settings.store is StoreKind.NEO4J:
        return f"Neo4j at {settings.neo4j_uri} (database {settings.neo4j_database})"
    return f"the embedded store file {settings.db_path}"


def reading_settings(settings: Settings) -> tuple[Settings, str]:
    """The store a reading command uses, and a note when it is the demo's.

    With no ``GRAPH_SERVICE_DB`` and an empty (or missing) default store file, the demo's store is
    read when it exists, saying so: ``bash scripts/demo`` then ``graph-service isolated`` answers
    on what the demo loaded instead of on nothing.
    """
    if settings.store is not StoreKind.EMBEDDED or "db_path" in settings.model_fields_set:
        return settings, ""
    chosen = demo_settings(settings)
    if not chosen.db_path.is_file() or _holds_something(settings.db_path):
        return settings, ""
    return chosen, "\n       (the demo's: the default store is empty; GRAPH_SERVICE_DB chooses another)"


def _holds_something(path: Path) -> bool:
    """Whether an embedded store file holds any organisation (read-only: a missing file is not created)."""
    if not path.is_file():
        return False
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return db.execute("SELECT 1 FROM organisations LIMIT 1").fetchone() is not None
    except sqlite3.Error:
        return True  # not ours to judge: read it as asked, and let the store say what is wrong


def command_line(settings: Settings) -> str:
    """The one line that asks the demo's store a question from the command line.

    >>> command_line(Settings(GRAPH_SERVICE_DB="/tmp/demo.sqlite3"))
    'GRAPH_SERVICE_DB=/tmp/demo.sqlite3 graph-service isolated --la Birmingham'
    """
    if settings.store is StoreKind.NEO4J:
        return "graph-service isolated --la Birmingham (with the same NEO4J_* settings)"
    return f"GRAPH_SERVICE_DB={shlex.quote(str(settings.db_path))} graph-service isolated --la Birmingham"


def check_port(host: str, port: int) -> None:
    """:class:`PortBusy` when ``host:port`` cannot be listened on, so a demo fails before it loads."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn does, so that a port left in TIME_WAIT by an earlier run is not called busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
            raise PortBusy(
                f"{host}:{port} {reason}: stop what listens there, or choose another port,"
                f" e.g. PORT={port + 1} bash scripts/demo (graph-service demo --port {port + 1})"
            ) from None


@dataclass(frozen=True)
class DemoLoad:
    """What the demo's load did."""

    steps: list[tuple[str, WriteResult]]

    def lines(self) -> list[str]:
        return [
            f"{label}: {r.organisations_created:,} organisations created, {r.organisations_updated:,} updated; "
            f"{r.ties_created:,} ties created, {r.ties_updated:,} updated, {r.ties_ended:,} ended"
            for label, r in self.steps
        ]


def load_demo(store: GraphStore) -> DemoLoad:
    """Load the sample, or only its newest extract again when the store already holds it."""
    from graph_service.cli.main import load_sample_first, load_sample_newest, load_sample_ofsted

    if store.get_meta().get("data_date", "") >= SAMPLE_DATA_DATE:
        report = load_sample_newest(store)
        outcomes, cards = load_sample_ofsted(store)
        return DemoLoad(
            [
                ("already loaded; the July 2025 extract again", report.result or WriteResult()),
                ("Ofsted's outcomes as at 31 August 2025 again", outcomes.result or WriteResult()),
                ("Ofsted's report card again", cards.result or WriteResult()),
            ]
        )
    first = load_sample_first(store)
    newest = load_sample_newest(store)
    outcomes, cards = load_sample_ofsted(store)
    return DemoLoad(
        [
            ("January 2025 extract (with Ofsted ratings)", first.result or WriteResult()),
            ("July 2025 extract over it (with links, hubs, children's centres)", newest.result or WriteResult()),
            ("Ofsted's outcomes as at 31 August 2025 (Birmingham's rows)", outcomes.result or WriteResult()),
            ("Ofsted's report-card management information (Birmingham's row)", cards.result or WriteResult()),
        ]
    )


def start_url(host: str, port: int) -> str:
    """Where a person starts: the front end.

    >>> start_url("0.0.0.0", 8000)
    'http://127.0.0.1:8000/viz/'
    """
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/viz/"
