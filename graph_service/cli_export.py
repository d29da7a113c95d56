"""CLI verb: export."""

from __future__ import annotations

from graph_service.commands import Command, pending

COMMANDS: dict[str, Command] = {"export": pending("export", "research export")}
