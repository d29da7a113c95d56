"""CLI verb: render."""

from __future__ import annotations

from graph_service.commands import Command, pending

COMMANDS: dict[str, Command] = {"render": pending("render", "network pictures")}
