"""CLI verbs beyond loading and serving, each in its own module, imported only when asked for.

Each module exposes ``COMMANDS``: name -> (help, configure(parser), run(args, settings)).
:data:`VERBS` names each verb's module and help, so that ``graph-service --help`` lists them
without importing any (pip's ``commands`` table); ``tests/graph_service/test_cli.py`` checks it
against the modules.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graph_service.settings import Settings

Configure = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace, "Settings"], int]
Command = tuple[str, Configure, Run]

#: Modules that contribute verbs; each owns its verbs.
MODULES = (
    "graph_service.cli.questions",
    "graph_service.cli.export",
    "graph_service.cli.viz",
    "graph_service.cli.areas",
)


def iso_date(text: str) -> date:
    """An argparse ``type`` for ``YYYY-MM-DD`` dates, with a one-line error otherwise."""
    from graph_service.models import check_query_day  # on use: `graph-service --help` does not import models

    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    try:
        return check_query_day(day)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


#: Verb -> (module, help), in the order ``--help`` lists them.
VERBS: dict[str, tuple[str, str]] = {
    "isolated": ("graph_service.cli.questions", "schools with no (or weak, or distant) collaboration, riskiest first"),
    "support": ("graph_service.cli.questions", "who could support a school in difficulty, with reasons"),
    "backtest": ("graph_service.cli.questions", "the support question measured against real take-overs"),
    "health": ("graph_service.cli.questions", "network health: centrality, communities, brokers"),
    "export": ("graph_service.cli.export", "export the graph for research tools"),
    "render": ("graph_service.cli.viz", "draw a network picture as an offline HTML page"),
    "areas": ("graph_service.cli.areas", "collaboration measures of every area, on a day or over years"),
}


def load(name: str) -> Command:
    """The verb's (help, configure, run), its module imported now."""
    command: Command = importlib.import_module(VERBS[name][0]).COMMANDS[name]
    return command


def registry() -> dict[str, Command]:
    commands: dict[str, Command] = {}
    for name in MODULES:
        commands.update(importlib.import_module(name).COMMANDS)
    return commands
