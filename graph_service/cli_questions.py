"""CLI verbs: isolated, support."""

from __future__ import annotations

from graph_service.commands import Command, pending

COMMANDS: dict[str, Command] = {
    "isolated": pending("isolated", "questions"),
    "support": pending("support", "questions"),
}
