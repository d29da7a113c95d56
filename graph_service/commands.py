"""CLI verbs that ask the graph questions (isolated, support, export, render).

Each verb is registered as (help, configure(parser), run(args, settings)).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from graph_service.settings import Settings

Configure = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace, Settings], int]


def _pending(verb: str, issue: str) -> tuple[str, Configure, Run]:
    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    def run(_args: argparse.Namespace, _settings: Settings) -> int:
        print(f"graph-service {verb}: not built yet (see the {issue} issue)", file=sys.stderr)
        return 2

    return f"{verb} (not built yet)", configure, run


def registry() -> dict[str, tuple[str, Configure, Run]]:
    return {
        "isolated": _pending("isolated", "questions"),
        "support": _pending("support", "questions"),
        "export": _pending("export", "research export"),
        "render": _pending("render", "network pictures"),
    }
