"""CLI verbs beyond loading and serving, each in its own module.

Each module exposes ``COMMANDS``: name -> (help, configure(parser), run(args, settings)).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from datetime import date

from graph_service.settings import Settings

Configure = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace, Settings], int]
Command = tuple[str, Configure, Run]

#: Modules that contribute verbs; each owns its verbs.
MODULES = ("graph_service.cli.questions", "graph_service.cli.export", "graph_service.cli.viz")


def iso_date(text: str) -> date:
    """An argparse ``type`` for ``YYYY-MM-DD`` dates, with a one-line error otherwise."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def registry() -> dict[str, Command]:
    commands: dict[str, Command] = {}
    for name in MODULES:
        commands.update(importlib.import_module(name).COMMANDS)
    return commands
