"""Read our node-link JSON, GraphML, GEXF and plain CSV exports back into organisations, ties and a store.

Attribute names map back to model fields (``data_source`` to ``source``,
``sla_<field>`` to the service level agreement, ``property_<name>`` to a free
property) and the models' own validation turns ISO strings back into dates.
Numbers and booleans come back as the types each format declares (GraphML keys,
GEXF attributes, the ``attribute_types`` of a CSV export's ``metadata.json``).
A file that does not describe a valid graph is refused whole, with the node
or edge at fault named; nothing is written.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from graph_service.export.records import (
    JSON_FIELDS,
    NODE_FIELD_NAMES,
    SLA_FIELD_NAMES,
    TIE_FIELD_NAMES,
    AttrType,
    property_key,
)
from graph_service.export.textformats import CSV_FILES, CsvFlavour
from graph_service.models import Organisation, Tie
from graph_service.spreadsheet import restore
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


def _nested(name: str, value: Any) -> Any:
    """A field exported as JSON text (``inspections``) back as data; the model validates it."""
    if name in JSON_FIELDS and isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{name} is not JSON text: {exc}") from None
    return value


def organisation_from(node_id: str, attrs: dict[str, Any]) -> Organisation:
    """An organisation from an exported node.

    >>> organisation_from("1", {"kind": "school", "name": "A", "opened": "2019-09-01", "region_code": 3}).opened
    datetime.date(2019, 9, 1)
    """
    fields: dict[str, Any] = {"id": node_id, "properties": {}}
    for name, value in attrs.items():
        target = NODE_FIELD_NAMES.get(name)
        if target is not None:
            fields[target] = _nested(name, value)
        else:
            fields["properties"][property_key(name)] = value
    return Organisation.model_validate(fields)


def tie_from(tie_id: str, source_id: str, target_id: str, attrs: dict[str, Any]) -> Tie:
    """A tie from an exported edge."""
    fields: dict[str, Any] = {"id": tie_id, "source_id": source_id, "target_id": target_id, "properties": {}}
    sla: dict[str, Any] = {}
    for name, value in attrs.items():
        if name in TIE_FIELD_NAMES:
            fields[TIE_FIELD_NAMES[name]] = _nested(name, value)
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
        #: Who to blame in messages: the file, or a CSV export's member file.
        self.name = path.name
        self.graph = ImportedGraph()

    def node(self, node_id: Any, attrs: dict[str, Any]) -> None:
        if not isinstance(node_id, str):
            raise ImportFileError(f"{self.name}: a node has no text id ({node_id!r})")
        try:
            self.graph.organisations.append(organisation_from(node_id, attrs))
        except ValidationError as exc:
            raise ImportFileError(f"{self.name}: node {node_id!r}: {_short(exc)}") from None
        except ValueError as exc:
            raise ImportFileError(f"{self.name}: node {node_id!r}: {exc}") from None

    def edge(self, tie_id: Any, source_id: Any, target_id: Any, attrs: dict[str, Any]) -> None:
        if not all(isinstance(part, str) for part in (tie_id, source_id, target_id)):
            raise ImportFileError(f"{self.name}: an edge needs a text id, source and target ({tie_id!r})")
        try:
            self.graph.ties.append(tie_from(tie_id, source_id, target_id, attrs))
        except ValidationError as exc:
            raise ImportFileError(f"{self.name}: edge {tie_id!r}: {_short(exc)}") from None
        except ValueError as exc:
            raise ImportFileError(f"{self.name}: edge {tie_id!r}: {exc}") from None


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


#: GraphML's and GEXF's attribute types (others, such as GEXF's list types, are read as text).
_XML_TYPES: dict[str, Callable[[str], Any]] = {
    "boolean": _boolean,
    "int": int,
    "integer": int,
    "long": int,
    "short": int,
    "byte": int,
    "float": float,
    "double": float,
    "string": str,
}


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def read_graphml(path: Path) -> ImportedGraph:
    """Read GraphML written by the exporter, element by element (the file is never held whole)."""
    keys: dict[str, tuple[str, Callable[[str], Any]]] = {}
    reader = _Reader(path)
    graph_data: dict[str, Any] = {}
    depth_in_item = 0

    def decoded(element: ET.Element) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        for child in element:
            if _local(child.tag) != "data":
                continue
            name, convert = keys[child.get("key", "")]
            attrs[name] = convert(child.text or "")
        # The label repeats the name (of a node) or kind (of an edge), for Gephi.
        attrs.pop("label", None)
        return attrs

    try:
        for event, element in ET.iterparse(path, events=("start", "end")):
            tag = _local(element.tag)
            if tag in ("node", "edge"):
                depth_in_item += 1 if event == "start" else -1
            if event == "start":
                continue
            if tag == "key":
                converter = _XML_TYPES.get(element.get("attr.type", "string"), str)
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


def _description_meta(description: str) -> dict[str, str]:
    """Store metadata from a GEXF ``<description>``: one ``name: value`` line per metadata item."""
    pairs = {}
    for line in description.splitlines():
        name, separator, value = line.partition(": ")
        if separator:
            pairs[name] = value.strip()
    sources = {name.removeprefix("source:"): day for name, day in pairs.items() if name.startswith("source:")}
    return _store_meta(sources, pairs.get("data_date"))


def read_gexf(path: Path) -> ImportedGraph:
    """Read GEXF written by the exporter, element by element.

    Values come from the ``<attvalues>``, typed by the ``<attributes>``
    declarations; the ``label`` (the name) and the ``start``/``end`` spells
    (opened/closed, since/until) repeat attributes and are not read again.
    """
    # GEXF numbers node and edge attributes separately: an id is only unique within its class.
    attributes: dict[tuple[str, str], tuple[str, Callable[[str], Any]]] = {}
    reader = _Reader(path)
    attribute_class = "node"
    description = ""

    def decoded(element: ET.Element, domain: str) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        for values in element:
            if _local(values.tag) != "attvalues":
                continue
            for value in values:
                if _local(value.tag) == "attvalue":
                    name, convert = attributes[domain, value.get("for", value.get("id", ""))]
                    attrs[name] = convert(value.get("value", ""))
        return attrs

    try:
        for event, element in ET.iterparse(path, events=("start", "end")):
            tag = _local(element.tag)
            if event == "start":
                if tag == "attributes":
                    attribute_class = element.get("class", "node")
                continue
            if tag == "attribute":
                converter = _XML_TYPES.get(element.get("type", "string"), str)
                attributes[attribute_class, element.get("id", "")] = (element.get("title", ""), converter)
            elif tag == "node":
                reader.node(element.get("id"), decoded(element, "node"))
                element.clear()
            elif tag == "edge":
                attrs = decoded(element, "edge")
                reader.edge(element.get("id"), element.get("source"), element.get("target"), attrs)
                element.clear()
            elif tag == "description":
                description = element.text or ""
    except ImportFileError:
        raise
    except ET.ParseError as exc:
        raise ImportFileError(f"{path.name}: not well-formed XML: {exc}") from None
    except KeyError as exc:
        raise ImportFileError(f"{path.name}: a value for an undeclared attribute {exc}") from None
    except ValueError as exc:
        raise ImportFileError(f"{path.name}: a value does not match its declared type: {exc}") from None
    reader.graph.meta = _description_meta(description)
    return reader.graph


def _csv_bool(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError("expected true or false")
    return text == "true"


#: Text of a CSV cell -> value, by the attribute's type in ``metadata.json``.
_CSV_TYPES: dict[str, Callable[[str], Any]] = {
    # Text cells were neutralised against spreadsheet formulas: take the added quote off.
    AttrType.STRING: restore,
    AttrType.INT: int,
    AttrType.FLOAT: float,
    AttrType.BOOL: _csv_bool,
    AttrType.DATE: date.fromisoformat,
}


@contextmanager
def _csv_members(path: Path) -> Iterator[Callable[[str], IO[str]]]:
    """A function opening a member of a CSV export (a directory or a zip) as text."""
    with ExitStack() as stack:
        if path.is_dir():

            def open_file(name: str) -> IO[str]:
                member = path / name
                if not member.is_file():
                    raise ImportFileError(f"{path.name}: no {name} in the folder")
                # utf-8-sig: a spreadsheet that saved the file again may have added a byte order mark.
                return stack.enter_context(member.open(encoding="utf-8-sig", newline=""))

            yield open_file
            return
        try:
            archive = stack.enter_context(zipfile.ZipFile(path))
        except (OSError, zipfile.BadZipFile) as exc:
            raise ImportFileError(f"{path.name}: not readable as a zip: {exc}") from None
        names = archive.namelist()

        def open_zipped(name: str) -> IO[str]:
            # Also found one folder down, as when someone zips the export's folder again.
            found = [entry for entry in names if entry == name or entry.endswith("/" + name)]
            if len(found) != 1:
                raise ImportFileError(f"{path.name}: {'no' if not found else 'more than one'} {name} in the zip")
            member = stack.enter_context(archive.open(found[0]))
            return stack.enter_context(io.TextIOWrapper(member, encoding="utf-8-sig", newline=""))

        yield open_zipped


def _csv_rows(
    reader: _Reader, handle: IO[str], file_name: str, types: dict[str, str], ends: tuple[str, ...]
) -> Iterator[tuple[list[str], dict[str, Any]]]:
    """(id and ends, typed attributes) of each row; an empty cell is a missing value."""
    reader.name = file_name
    rows = csv.reader(handle)
    header = next(rows, None)
    if header is None or tuple(header[: len(ends)]) != ends:
        raise ImportFileError(f"{file_name}: the first columns must be {', '.join(ends)}")
    columns = [(name, _CSV_TYPES.get(types.get(name, AttrType.STRING), restore)) for name in header[len(ends) :]]
    for number, row in enumerate(rows, 2):
        if len(row) != len(header):
            raise ImportFileError(f"{file_name} row {number}: {len(row)} cells, the header has {len(header)}")
        attrs: dict[str, Any] = {}
        for (name, convert), cell in zip(columns, row[len(ends) :], strict=True):
            if cell == "":
                continue
            try:
                attrs[name] = convert(cell)
            except ValueError:
                raise ImportFileError(
                    f"{file_name} row {number}, field {name}: {cell!r} is not a valid {types.get(name)}"
                ) from None
        yield row[: len(ends)], attrs


def read_csv(path: Path) -> ImportedGraph:
    """Read a plain CSV export: a folder, or a ``.zip``, holding nodes.csv, edges.csv and metadata.json.

    Cells are typed by ``metadata.json``'s ``attribute_types``; the Kumu and
    neo4j-admin layouts are for those tools and are not read back.
    """
    reader = _Reader(path)
    node_file, edge_file = CSV_FILES[CsvFlavour.PLAIN]
    try:
        with _csv_members(path) as open_member:
            meta = json.load(open_member("metadata.json"))
            if not isinstance(meta, dict) or not isinstance(meta.get("attribute_types"), dict):
                raise ImportFileError(f"{path.name}: metadata.json has no attribute_types")
            if meta.get("csv_flavour", CsvFlavour.PLAIN.value) != CsvFlavour.PLAIN.value:
                raise ImportFileError(
                    f"{path.name}: a {meta['csv_flavour']} CSV export; only the plain layout is read back"
                )
            types = meta["attribute_types"]
            node_types, edge_types = types.get("node") or {}, types.get("edge") or {}
            for (node_id,), attrs in _csv_rows(reader, open_member(node_file), node_file, node_types, ("id",)):
                reader.node(node_id, attrs)
            edge_rows = _csv_rows(reader, open_member(edge_file), edge_file, edge_types, ("id", "source", "target"))
            for (tie_id, source_id, target_id), attrs in edge_rows:
                reader.edge(tie_id, source_id, target_id, attrs)
    except ImportFileError:
        raise
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"{path.name}: metadata.json is not JSON: {exc}") from None
    except (OSError, UnicodeDecodeError, csv.Error, zipfile.BadZipFile) as exc:
        raise ImportFileError(f"{reader.name}: not readable as UTF-8 CSV: {exc}") from None
    reader.graph.meta = _store_meta(meta.get("sources") or {}, meta.get("data_date"))
    return reader.graph


def read_export(path: Path) -> ImportedGraph:
    """Read a ``.json``, ``.graphml`` or ``.gexf`` export, or a plain CSV export (its folder or ``.zip``)."""
    if path.is_dir():
        return read_csv(path)
    readers = {".json": read_node_link, ".graphml": read_graphml, ".gexf": read_gexf, ".zip": read_csv}
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise ImportFileError(
            f"{path.name}: can read back .json (node-link), .graphml, .gexf and plain CSV exports"
            " (a folder or .zip) only"
        )
    return reader(path)


def import_export(store: GraphStore, path: Path) -> WriteResult:
    """Write an export's organisations, ties and source dates into a store, in one transaction."""
    graph = read_export(path)
    meta = dict(graph.meta)
    if "data_date" in meta:
        meta["data_date"] = max(meta["data_date"], store.get_meta().get("data_date", ""))
    return store.apply(WriteBatch(organisations=graph.organisations, ties=graph.ties, meta=meta))
