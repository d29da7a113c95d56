"""Organisations and ties as flat, typed attribute records, the same for every format.

Every format writes the same attribute names with the same types:

* the model's fields, in model order, except ``id`` (the node or edge id) and
  the tie's ends; a tie's service level agreement becomes ``sla_<field>``;
* ``source`` (where a fact came from) is written as ``data_source``, because
  ``source`` means an edge's first end in node-link JSON and in CSV edge lists;
* free ``properties`` follow under their own names, except that a property
  whose name is taken (by a field, or by a format: ``id``, ``source``,
  ``target``, ``key``, ``label``, ``start``, ``end``) or already starts with
  ``property_`` is written as ``property_<name>``, so reading back is exact.

Missing values are left out, never written as ``"None"``.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import Enum, StrEnum
from typing import Any

from graph_service.models import Organisation, ServiceLevelAgreement, Tie


class AttrType(StrEnum):
    """The type of an exported attribute."""

    STRING = "string"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    DATE = "date"


PROPERTY_PREFIX = "property_"
_RENAMED = {"source": "data_source"}


def _attr_type(annotation: Any) -> AttrType:
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    base = args[0] if args and (typing.get_origin(annotation) in (typing.Union, types.UnionType)) else annotation
    if typing.get_origin(base) is typing.Annotated:  # e.g. models.Day: a date with a validator
        base = typing.get_args(base)[0]
    for python_type, attr_type in ((bool, AttrType.BOOL), (int, AttrType.INT), (float, AttrType.FLOAT)):
        if base is python_type:
            return attr_type
    if base is date:
        return AttrType.DATE
    return AttrType.STRING


def _fields(model: type[Any], skip: set[str]) -> list[tuple[str, str, AttrType]]:
    return [
        (name, _RENAMED.get(name, name), _attr_type(info.annotation))
        for name, info in model.model_fields.items()
        if name not in skip
    ]


def _is_enum(annotation: Any) -> bool:
    return any(isinstance(arg, type) and issubclass(arg, Enum) for arg in (annotation, *typing.get_args(annotation)))


def _is_nested(annotation: Any) -> bool:
    """Whether a field holds a list or mapping of records (e.g. ``inspections``): exported as JSON text."""
    return typing.get_origin(annotation) in (list, dict)


#: How a field's value becomes an attribute value.
_PLAIN, _ENUM, _JSON = 0, 1, 2


def _readers(model: type[Any], fields: list[tuple[str, str, AttrType]]) -> list[tuple[str, str, int]]:
    """(field, exported name, how its value is read) for the hot loops below."""
    readers = []
    for name, export, _ in fields:
        annotation = model.model_fields[name].annotation
        how = _JSON if _is_nested(annotation) else _ENUM if _is_enum(annotation) else _PLAIN
        readers.append((name, export, how))
    return readers


def _json_text(value: Any) -> str | None:
    """Nested records as compact JSON text (dates ISO, enums by value); ``None`` when there are none."""
    if not value:
        return None
    items = [
        item.model_dump(mode="json", exclude_defaults=True) if hasattr(item, "model_dump") else item for item in value
    ]
    return json.dumps(items, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


#: (model field, exported name, type) of organisations and ties, in model order.
# Nested records (``inspections``) are one attribute of JSON text; see _json_text.
NODE_FIELDS = _fields(Organisation, {"id", "properties"})
_TIE_FIELDS = _fields(Tie, {"id", "source_id", "target_id", "properties", "sla"})
_SLA_FIELDS = [(name, f"sla_{name}", kind) for name, _, kind in _fields(ServiceLevelAgreement, set())]
EDGE_FIELDS = _TIE_FIELDS + _SLA_FIELDS
_NODE_READERS = _readers(Organisation, NODE_FIELDS)
_TIE_READERS = _readers(Tie, _TIE_FIELDS)

#: Exported names whose text is JSON of nested records (read back with ``json.loads``).
JSON_FIELDS = frozenset(export for name, export, how in _NODE_READERS + _TIE_READERS if how == _JSON)

#: Exported name -> model field, for reading files back.
NODE_FIELD_NAMES = {export: name for name, export, _ in NODE_FIELDS}
TIE_FIELD_NAMES = {export: name for name, export, _ in _TIE_FIELDS}
SLA_FIELD_NAMES = {export: name for name, export, _ in _SLA_FIELDS}

_RESERVED = (
    {export for _, export, _ in NODE_FIELDS}
    | {export for _, export, _ in EDGE_FIELDS}
    | {"id", "source", "target", "key", "label", "start", "end"}
)


def property_name(key: str) -> str:
    """The exported name of a free property.

    >>> property_name("region_code"), property_name("name"), property_name("property_x")
    ('region_code', 'property_name', 'property_property_x')
    """
    return PROPERTY_PREFIX + key if key in _RESERVED or key.startswith(PROPERTY_PREFIX) else key


def property_key(name: str) -> str:
    """The property an exported name stands for (the inverse of :func:`property_name`).

    >>> property_key("property_name"), property_key("region_code")
    ('name', 'region_code')
    """
    return name.removeprefix(PROPERTY_PREFIX)


def node_values(org: Organisation) -> Iterator[tuple[str, Any]]:
    """(exported name, value) of an organisation's set attributes."""
    for name, export, how in _NODE_READERS:
        value = getattr(org, name)
        if how == _JSON:
            value = _json_text(value)
        if value is not None:
            yield export, value.value if how == _ENUM else value
    for key, value in org.properties.items():
        if value is not None:
            yield property_name(key), value


def edge_values(tie: Tie) -> Iterator[tuple[str, Any]]:
    """(exported name, value) of a tie's set attributes (its id and ends excluded)."""
    for name, export, how in _TIE_READERS:
        value = getattr(tie, name)
        if how == _JSON:
            value = _json_text(value)
        if value is not None:
            yield export, value.value if how == _ENUM else value
    if tie.sla is not None:
        for name, export, _ in _SLA_FIELDS:
            value = getattr(tie.sla, name)
            if value is not None:
                yield export, value
    for key, value in tie.properties.items():
        if value is not None:
            yield property_name(key), value


#: The integers every reader stores as integers (64-bit signed: Neo4j, GraphML ``long``, Parquet, pandas).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def value_type(value: Any) -> AttrType:
    """The attribute type of a Python value (``bool`` before ``int``: it is one).

    An integer outside 64 bits is text: no reader could hold it as a number, and
    a Cypher script or neo4j-admin file declaring it one would fail.

    >>> value_type(7), value_type(2**64), value_type(True)
    (<AttrType.INT: 'int'>, <AttrType.STRING: 'string'>, <AttrType.BOOL: 'bool'>)
    """
    if isinstance(value, bool):
        return AttrType.BOOL
    if isinstance(value, int):
        return AttrType.INT if INT64_MIN <= value <= INT64_MAX else AttrType.STRING
    if isinstance(value, float):
        return AttrType.FLOAT
    if isinstance(value, date):
        return AttrType.DATE
    return AttrType.STRING


def widen(old: AttrType, new: AttrType) -> AttrType:
    """One type for a property whose values differ in type: int and float make float, the rest string.

    >>> widen(AttrType.INT, AttrType.FLOAT), widen(AttrType.BOOL, AttrType.INT)
    (<AttrType.FLOAT: 'float'>, <AttrType.STRING: 'string'>)
    """
    if old == new:
        return old
    if {old, new} == {AttrType.INT, AttrType.FLOAT}:
        return AttrType.FLOAT
    return AttrType.STRING


def text(value: Any) -> str:
    """A value as text: ISO dates, ``true``/``false``, shortest exact floats.

    >>> text(True), text(date(2020, 9, 1)), text(0.1), text(330)
    ('true', '2020-09-01', '0.1', '330')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _as_text(value: Any) -> str:
    return value if value.__class__ is str else text(value)


def formatter(kind: AttrType, escape: Callable[[str], str] | None = None) -> Callable[[Any], str]:
    """A function writing the values of one attribute as text, strings passed through ``escape``.

    Values of a widened property (see :func:`widen`) are converted to the declared type.

    >>> formatter(AttrType.FLOAT)(3), formatter(AttrType.STRING, str.upper)(True)
    ('3.0', 'TRUE')
    >>> formatter(AttrType.DATE)(date(2020, 1, 2))
    '2020-01-02'
    """
    if kind is AttrType.STRING:
        if escape is None:
            return _as_text
        escape_text = escape
        return lambda value: escape_text(_as_text(value))
    if kind is AttrType.FLOAT:
        return lambda value: repr(float(value))
    if kind is AttrType.BOOL:
        return lambda value: "true" if value else "false"
    if kind is AttrType.DATE:
        return date.isoformat
    return str


def json_converter(kind: AttrType) -> Callable[[Any], Any]:
    """A function giving the JSON value of an attribute: dates as ISO strings, numbers and booleans as they are.

    >>> json_converter(AttrType.FLOAT)(3), json_converter(AttrType.DATE)(date(2020, 1, 2))
    (3.0, '2020-01-02')
    """
    if kind is AttrType.STRING:
        return _as_text
    if kind is AttrType.FLOAT:
        return float
    if kind is AttrType.DATE:
        return date.isoformat
    return lambda value: value


@dataclass
class Schema:
    """The attributes an export holds, in a stable order, with their types.

    Only attributes that some exported node or edge sets are listed, so CSV
    files carry no empty columns; ``kind`` and ``name`` are always there.
    """

    node: dict[str, AttrType] = field(default_factory=dict)
    edge: dict[str, AttrType] = field(default_factory=dict)

    def add_organisations(self, organisations: Iterable[Organisation]) -> None:
        for org in organisations:
            _add(self.node, node_values(org))

    def add_ties(self, ties: Iterable[Tie]) -> None:
        for tie in ties:
            _add(self.edge, edge_values(tie))

    def ordered(self) -> Schema:
        """Fields in model order, then properties by name."""
        return Schema(_order(self.node, NODE_FIELDS, ("kind", "name")), _order(self.edge, EDGE_FIELDS, ("kind",)))

    def as_dict(self) -> dict[str, dict[str, str]]:
        return {
            "node": {name: kind.value for name, kind in self.node.items()},
            "edge": {name: kind.value for name, kind in self.edge.items()},
        }


def _add(types_seen: dict[str, AttrType], values: Iterable[tuple[str, Any]]) -> None:
    for name, value in values:
        kind = value_type(value)
        old = types_seen.get(name)
        if old is None:
            types_seen[name] = kind
        elif old is not kind:
            types_seen[name] = widen(old, kind)


def _order(
    seen: dict[str, AttrType], fields: list[tuple[str, str, AttrType]], always: tuple[str, ...]
) -> dict[str, AttrType]:
    ordered = {export: kind for _, export, kind in fields if export in seen or export in always}
    ordered.update((name, seen[name]) for name in sorted(seen) if name not in ordered)
    return ordered
