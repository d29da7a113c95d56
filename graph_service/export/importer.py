"""Read our node-link JSON and GraphML exports back into organisations, ties and a store.

Attribute names map back to model fields (``data_source`` to ``source``,
``sla_<field>`` to the service level agreement, ``property_<name>`` to a free
property) and the models' own validation turns ISO strings back into dates.
A file that does not describe a valid graph is refused whole, with the node
or edge at fault named; nothing is written.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from graph_service.export.records import (
    NODE_FIELD_NAMES,
    SLA_FIELD_NAMES,
    TIE_FIELD_NAMES,
    property_key,
)
from graph_service.models import Organisation, Tie
from graph_service.store.base import GraphStore, WriteBatch, WriteResult


class ImportFileError(ValueError):
    """A file could not be read back as a graph; the message names the file and what is wrong."""


@dataclass
class ImportedGraph:
    """What a file holds, ready for a :class:`WriteBatch`."""

    organisations: list[Organisation] = field(default_factory=list)
    ties: list[Tie] = field(default_factory=list)
    #: Store metadata the file carries: ``source:<file>`` dates and ``data_date``.
    meta: dict[str, str] = field(default_factory=dict)


def _short(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in error.errors())


def organisation_from(node_id: str, attrs: dict[str, Any]) -> Organisation:
    """An organisation from an exported node.

    >>> organisation_from("1", {"kind": "school", "name": "A", "opened": "2019-09-01", "region_code": 3}).opened
    datetime.date(2019, 9, 1)
    """
    fields: dict[str, Any] = {"id": node_id, "properties": {}}
    for name, value in attrs.items():
        target = NODE_FIELD_NAMES.get(name)
        if target is not None:
            fields[target] = value
        else:
            fields["properties"][property_key(name)] = value
    return Organisation.model_validate(fields)


def tie_from(tie_id: str, source_id: str, target_id: str, attrs: dict[str, Any]) -> Tie:
    """A tie from an exported edge."""
    fields: dict[str, Any] = {"id": tie_id, "source_id": source_id, "target_id": target_id, "properties": {}}
    sla: dict[str, Any] = {}
    for name, value in attrs.items():
        if name in TIE_FIELD_NAMES:
            fields[TIE_FIELD_NAMES[name]] = value
        elif name in SLA_FIELD_NAMES:
            sla[SLA_FIELD_NAMES[name]] = value
        else:
            fields["properties"][property_key(name)] = value
    if sla:
        fields["sla"] = sla
    return Tie.model_validate(fields)


def _store_meta(sources: dict[str, Any], data_date: Any) -> dict[str, str]:
    meta = {f"source:{name}": str(day) for name, day in sources.items()}
    if data_date:
        meta["data_date"] = str(data_date)
    return meta


class _Reader:
    """Collects nodes and edges, naming the file and element when one is invalid."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.graph = ImportedGraph()

    def node(self, node_id: Any, attrs: dict[str, Any]) -> None:
        if not isinstance(node_id, str):
            raise ImportFileError(f"{self.path.name}: a node has no text id ({node_id!r})")
        try:
            self.graph.organisations.append(organisation_from(node_id, attrs))
        except ValidationError as exc:
            raise ImportFileError(f"{self.path.name}: node {node_id!r}: {_short(exc)}") from None

    def edge(self, tie_id: Any, source_id: Any, target_id: Any, attrs: dict[str, Any]) -> None:
        if not all(isinstance(part, str) for part in (tie_id, source_id, target_id)):
            raise ImportFileError(f"{self.path.name}: an edge needs a text id, source and target ({tie_id!r})")
        try:
            self.graph.ties.append(tie_from(tie_id, source_id, target_id, attrs))
        except ValidationError as exc:
            raise ImportFileError(f"{self.path.name}: edge {tie_id!r}: {_short(exc)}") from None


def read_node_link(path: Path) -> ImportedGraph:
    """Read node-link JSON written by the exporter (or by networkx with tie ids as edge keys)."""
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFileError(f"{path.name}: not readable as JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise ImportFileError(f"{path.name}: not node-link JSON (no 'nodes' list)")
    edges = data.get("edges", data.get("links")) or []
    if not isinstance(edges, list):
        raise ImportFileError(f"{path.name}: not node-link JSON ('edges' is not a list)")
    reader = _Reader(path)
    for node in data["nodes"]:
        if not isinstance(node, dict):
            raise ImportFileError(f"{path.name}: a node is not an object: {node!r}")
        attrs = dict(node)
        reader.node(attrs.pop("id", None), attrs)
    for edge in edges:
        if not isinstance(edge, dict):
            raise ImportFileError(f"{path.name}: an edge is not an object: {edge!r}")
        attrs = dict(edge)
        source_id, target_id, key = attrs.pop("source", None), attrs.pop("target", None), attrs.pop("key", None)
        reader.edge(key, source_id, target_id, attrs)
    graph = data.get("graph") or {}
    reader.graph.meta = _store_meta(graph.get("sources") or {}, graph.get("data_date"))
    return reader.graph


def _boolean(text: str) -> bool:
    return text.strip().lower() in ("true", "1")


_GRAPHML_TYPES: dict[str, Callable[[str], Any]] = {
    "boolean": _boolean,
    "int": int,
    "long": int,
    "float": float,
    "double": float,
    "string": str,
}


def read_graphml(path: Path) -> ImportedGraph:
    """Read GraphML written by the exporter, element by element (the file is never held whole)."""
    keys: dict[str, tuple[str, Callable[[str], Any]]] = {}
    reader = _Reader(path)
    graph_data: dict[str, Any] = {}
    depth_in_item = 0

    def decoded(element: ET.Element) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        for child in element:
            if child.tag.rpartition("}")[2] != "data":
                continue
            name, convert = keys[child.get("key", "")]
            attrs[name] = convert(child.text or "")
        return attrs

    try:
        for event, element in ET.iterparse(path, events=("start", "end")):
            tag = element.tag.rpartition("}")[2]
            if tag in ("node", "edge"):
                depth_in_item += 1 if event == "start" else -1
            if event == "start":
                continue
            if tag == "key":
                converter = _GRAPHML_TYPES.get(element.get("attr.type", "string"), str)
                keys[element.get("id", "")] = (element.get("attr.name", ""), converter)
            elif tag == "node":
                reader.node(element.get("id"), decoded(element))
                element.clear()
            elif tag == "edge":
                attrs = decoded(element)
                reader.edge(element.get("id"), element.get("source"), element.get("target"), attrs)
                element.clear()
            elif tag == "data" and depth_in_item == 0:
                name, convert = keys[element.get("key", "")]
                graph_data[name] = convert(element.text or "")
    except ImportFileError:
        raise
    except ET.ParseError as exc:
        raise ImportFileError(f"{path.name}: not well-formed XML: {exc}") from None
    except KeyError as exc:
        raise ImportFileError(f"{path.name}: data for an undeclared key {exc}") from None
    except ValueError as exc:
        raise ImportFileError(f"{path.name}: a value does not match its declared type: {exc}") from None
    sources = {name.removeprefix("source:"): day for name, day in graph_data.items() if name.startswith("source:")}
    reader.graph.meta = _store_meta(sources, graph_data.get("data_date"))
    return reader.graph


def read_export(path: Path) -> ImportedGraph:
    """Read a ``.json`` or ``.graphml`` export."""
    readers = {".json": read_node_link, ".graphml": read_graphml}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise ImportFileError(f"{path.name}: can read back .json (node-link) and .graphml exports only")
    return reader(path)


def import_export(store: GraphStore, path: Path) -> WriteResult:
    """Write an export's organisations, ties and source dates into a store, in one transaction."""
    graph = read_export(path)
    meta = dict(graph.meta)
    if "data_date" in meta:
        meta["data_date"] = max(meta["data_date"], store.get_meta().get("data_date", ""))
    return store.apply(WriteBatch(organisations=graph.organisations, ties=graph.ties, meta=meta))
