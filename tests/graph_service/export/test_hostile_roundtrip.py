"""Property-based: names, notes and property values from hostile alphabets survive export and re-import.

Whatever the models accept (quotes, backslashes, ``\\u0060``-like text, formula starts, XML and
Cypher syntax, non-Latin scripts) must come back equal from every format the importer reads, and the
Cypher script must keep every one of them inside a string literal.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph_service.export import ExportFormat, ExportSpec, prepare_export, write_export
from graph_service.export.importer import read_export
from graph_service.models import EdgeKind, NodeKind, Organisation, make_tie
from graph_service.store import EmbeddedStore
from graph_service.store.base import WriteBatch

#: Pieces that have broken exports before, mixed with any printable character.
NASTY = [
    "'",
    '"',
    "\\",
    "\\u0060",
    "\\u000a",
    "`",
    "=",
    "+",
    "-",
    "@",
    "<",
    "&",
    "]]>",
    "//",
    ";",
    ":",
    "INF",
    "\u00e9",
]
text = st.lists(
    st.one_of(st.sampled_from(NASTY), st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"])),
    min_size=1,
    max_size=12,
).map("".join)
line = text.map(str.strip).filter(bool)
notes = (
    st.lists(st.one_of(text, st.just("\n"), st.just("\t")), min_size=1, max_size=4)
    .map("".join)
    .map(str.strip)
    .filter(bool)
)
keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True).filter(lambda k: not k.startswith("property_"))
values = st.one_of(
    line, st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False), st.booleans()
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=line, other=line, note=notes, props=st.dictionaries(keys, values, max_size=4))
def test_hostile_text_round_trips_through_every_importable_format(
    name: str, other: str, note: str, props: dict[str, object]
) -> None:
    orgs = [
        Organisation(id="1", kind=NodeKind.SCHOOL, name=name, urn=1, properties=props),
        Organisation(id="group-2", kind=NodeKind.TRUST, name=other, group_uid=2),
    ]
    ties = [make_tie(source_id="1", target_id="group-2", kind=EdgeKind.MEMBER_OF, notes=note, properties=props)]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        store = EmbeddedStore(folder / "graph.sqlite3")
        store.open()
        try:
            store.apply(WriteBatch(organisations=orgs, ties=ties))
            stored_orgs, stored_ties = store.get_organisations(["1", "group-2"]), store.all_ties()
            for fmt, file_name in [
                (ExportFormat.JSON, "g.json"),
                (ExportFormat.GRAPHML, "g.graphml"),
                (ExportFormat.GEXF, "g.gexf"),
                (ExportFormat.CSV, "csv"),
            ]:
                write_export(prepare_export(store, ExportSpec(), fmt), folder / file_name)
                back = read_export(folder / file_name)
                assert sorted(back.organisations, key=lambda o: o.id) == stored_orgs, fmt
                assert back.ties == stored_ties, fmt
            script = b"".join(prepare_export(store, ExportSpec(), ExportFormat.CYPHER).chunks()).decode("utf-8")
        finally:
            store.close()
    statements = [row for row in script.splitlines() if row and not row.startswith(("//", ":param"))]
    assert len(statements) == 4 and all("'" not in row for row in statements), "no data in statement text"
    assert all(row.startswith(("//", ":param", "CREATE CONSTRAINT", "UNWIND")) for row in script.splitlines())
