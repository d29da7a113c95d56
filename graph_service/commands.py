"""CLI verbs beyond loading and serving, each in its own module.

Each module exposes ``COMMANDS``: name -> (help, configure(parser), run(args, settings)).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

from graph_service.settings import Settings

Configure = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace, Settings], int]
Command = tuple[str, Configure, Run]

#: Modules that contribute verbs; each owns its verbs.
MODULES = ("graph_service.cli_questions", "graph_service.cli_export", "graph_service.cli_viz")


def pending(verb: str, issue: str) -> Command:
    """A verb whose feature is not built yet: it says so and exits with 2."""

    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    def run(_args: argparse.Namespace, _settings: Settings) -> int:
        print(f"graph-service {verb}: not built yet (see the {issue} issue)", file=sys.stderr)
        return 2

    return f"{verb} (not built yet)", configure, run


def registry() -> dict[str, Command]:
    commands: dict[str, Command] = {}
    for name in MODULES:
        commands.update(importlib.import_module(name).COMMANDS)
    return commands
