"""What every export says about itself: sources, dates, filters, counts and the OGL attribution."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from graph_service import __version__
from graph_service.export.codebook import as_records, entries
from graph_service.export.records import Schema
from graph_service.export.source import ExportSpec, Selection
from graph_service.store.base import GraphStore

ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0."
LICENCE = "Open Government Licence v3.0"
LICENCE_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
TITLE = "School collaboration graph (England)"


def build_metadata(
    store: GraphStore, spec: ExportSpec, selection: Selection, schema: Schema, fmt: str
) -> dict[str, Any]:
    """The export's metadata; ``sources`` maps each loaded file to its date (store meta ``source:<file>``)."""
    stored = store.get_meta()
    nodes, edges = selection.counts
    meta: dict[str, Any] = {
        "title": TITLE,
        "attribution": ATTRIBUTION,
        "licence": LICENCE,
        "licence_url": LICENCE_URL,
        "generator": f"school-graph-service {__version__}",
        "format": fmt,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sources": {key.removeprefix("source:"): value for key, value in stored.items() if key.startswith("source:")},
        "filters": spec.describe(),
        "nodes": nodes,
        "edges": edges,
        "attribute_types": schema.as_dict(),
        "codebook": as_records(entries(schema)),
    }
    if "data_date" in stored:
        meta["data_date"] = stored["data_date"]
    return meta


def flat_metadata(meta: dict[str, Any]) -> list[tuple[str, str | int]]:
    """The metadata as (name, value) pairs for formats without nesting.

    Sources become ``source:<file>``, filters ``filter:<name>`` (lists joined
    with commas); attribute types and the codebook are left to the format's
    own declarations.

    >>> flat_metadata({"title": "T", "sources": {"a.csv": "2025-07-18"}, "filters": {"tie_kinds": ["x", "y"]},
    ...                "nodes": 2, "attribute_types": {}})
    [('title', 'T'), ('source:a.csv', '2025-07-18'), ('filter:tie_kinds', 'x,y'), ('nodes', 2)]
    """
    pairs: list[tuple[str, str | int]] = []
    for key, value in meta.items():
        if key in ("attribute_types", "codebook"):
            continue
        if key == "sources":
            pairs.extend((f"source:{name}", str(day)) for name, day in value.items())
        elif key == "filters":
            pairs.extend(
                (f"filter:{name}", ",".join(map(str, item)) if isinstance(item, list) else item)
                for name, item in value.items()
            )
        else:
            pairs.append((key, value))
    return pairs


def bundle_readme(meta: dict[str, Any], body: list[str]) -> str:
    """The plain-text note a file bundle carries: title, attribution, ``body``, then the metadata.

    >>> print(bundle_readme({"title": "T", "attribution": "A", "nodes": 2}, ["how to read it"]))
    T
    <BLANKLINE>
    A
    <BLANKLINE>
    how to read it
    <BLANKLINE>
    title: T
    attribution: A
    nodes: 2
    <BLANKLINE>
    """
    lines = [f"{name}: {value}" for name, value in flat_metadata(meta)]
    return "\n".join([str(meta["title"]), "", str(meta["attribution"]), "", *body, "", *lines, ""])
