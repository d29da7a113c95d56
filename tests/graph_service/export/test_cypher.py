"""The Cypher script: parameter blocks and repeated statements, escaping for what Neo4j parses, and
cypher-shell rebuilding the graph in a real Neo4j."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from graph_service.export import ATTRIBUTION, ExportFormat, ExportSpec, prepare_export
from graph_service.export.records import AttrType, Schema
from graph_service.export.textformats import CYPHER_BATCH, cypher, cypher_comment, cypher_literal, cypher_string
from graph_service.models import NodeKind, Organisation
from graph_service.store import EmbeddedStore
from graph_service.store.base import WriteBatch
from tests.graph_service.export.awkward import AWKWARD, NOTES, Listed
from tests.graph_service.export.conftest import cypher_shell, one

READERS = Path(__file__).resolve().parents[3] / "scripts" / "readers" / "run"

#: Free-property keys and values the models now refuse on the way in; the exporter must still be safe
#: with them (a store written before the check, or another writer). Each once broke a script.
HOSTILE = {
    "a\\u0060}) CREATE (:Pwned) //": "backtick escape",
    "x:LABEL": "colon",
    "MATCH": 1,
    "null": True,
    "big": 2**64,
    "small": -(2**63),
    "inf": float("inf"),
    "nan": float("nan"),
    "v\\u000aw": "q\\u0027",
}


def script(store: EmbeddedStore, spec: ExportSpec | None = None) -> str:
    return b"".join(prepare_export(store, spec or ExportSpec(), ExportFormat.CYPHER).chunks()).decode("utf-8")


def statements(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith(("//", ":param"))]


def hostile_script() -> str:
    """The script of one school holding the hostile properties, and file names with line breaks."""
    evil = Organisation.model_construct(
        id="900", kind=NodeKind.SCHOOL, name="Evil \\u0060 School", urn=900, properties=dict(HOSTILE)
    )
    schema = Schema()
    schema.add_organisations([evil])
    meta = {"title": "t", "sources": {"evil\n.csv": "2025-01-01", "b\\u000aMATCH": "x"}}
    return "".join(cypher(Listed([evil]), schema.ordered(), meta))


def test_string_literals_and_comments_are_escaped() -> None:
    assert cypher_string("O'Brien") == r"'O\'Brien'"
    assert cypher_string('a\\b "c"\n\r\t') == r"""'a\\b "c"\n\r\t'"""
    assert cypher_string("bell\x07 line\u2028sep") == r"'bell\u0007 line\u2028sep'"
    # Neo4j decodes \uXXXX anywhere in a query, also in comments: a comment never holds a line break or a
    # backslash that could start one.
    assert cypher_comment("a\nb\u2028c") == "a b c"
    assert cypher_comment("x\\u000aMATCH") == "x\\u005cu000aMATCH"
    assert cypher_literal(AttrType.DATE)(date(2016, 9, 1)) == "'2016-09-01'"
    assert cypher_literal(AttrType.STRING)(3) == "'3'" and cypher_literal(AttrType.INT)(7) == "7"


def test_statements_repeat_and_data_travels_in_param_blocks(awkward: EmbeddedStore) -> None:
    text = script(awkward)
    header = [line for line in text.splitlines() if line.startswith("//")]
    assert f"// attribution: {ATTRIBUTION}" in header and "// data_date: 2025-07-18" in header
    assert "// source:ties.csv: 2025-06-30" in header
    lines = statements(text)
    assert lines[0].startswith("CREATE CONSTRAINT organisation_id") and all(line.endswith(";") for line in lines)
    # No value in any statement: each is UNWIND $rows, and a :param rows block comes before it.
    assert all("$rows" in line and "'" not in line for line in lines[1:])
    params = [line for line in text.splitlines() if line.startswith(":param rows => [")]
    assert len(params) == len(lines) - 1
    assert any("SET n:FeCollege" in line for line in lines)
    assert any("MERGE (a)-[r:PREDECESSOR_OF {id: row.id}]->(b)" in line for line in lines)
    assert "n.opened = date(n.opened)" in lines[1] and "r.since = date(r.since)" in lines[-1]


def test_one_statement_text_per_kind_however_many_rows(embedded: EmbeddedStore) -> None:
    """Neo4j plans a statement once: the text of every batch of schools must be the same."""
    from tests.factories import school

    embedded.apply(WriteBatch(organisations=[school(1000 + n, f"School {n}") for n in range(CYPHER_BATCH * 2 + 1)]))
    lines = statements(script(embedded))
    assert len(lines) == 4 and lines[1] == lines[2] == lines[3]


def test_hostile_keys_never_become_cypher_syntax() -> None:
    text = hostile_script()
    # Statements are fixed text: no key, no value, no comment content.
    assert not any("Pwned" in line or "LABEL" in line for line in statements(text))
    # Free-property names are string literals in [name, value] pairs, never backticked identifiers.
    block = next(line for line in text.splitlines() if line.startswith(":param"))
    quoted = re.findall(r"`([^`]*)`", block)
    assert sorted(quoted) == ["MATCH", "big", "null", "small"], "only plain names are back-quoted"
    assert r"['a\\u0060}) CREATE (:Pwned) //', 'backtick escape']" in block
    assert "`big`: '18446744073709551616'" in block, "an integer past 64 bits is text"
    assert "['inf', 'Infinity']" in block and "['nan', 'NaN']" in block
    # A file name's line break (raw or escaped) stays inside its comment.
    comments = [line for line in text.splitlines() if line.startswith("// source:")]
    assert "// source:evil .csv: 2025-01-01" in comments
    assert "// source:b\\u005cu000aMATCH: x" in comments
    assert all(line.startswith(("//", ":param", "CREATE CONSTRAINT", "UNWIND")) for line in text.splitlines())


@pytest.mark.neo4j
def test_cypher_shell_rebuilds_the_graph_in_neo4j(
    awkward: EmbeddedStore, neo4j_session: tuple[str, Any], tmp_path: Path
) -> None:
    uri, session = neo4j_session
    path = tmp_path / "graph.cypher"
    path.write_text(script(awkward), encoding="utf-8")
    cypher_shell(uri, path)
    assert one(session, "MATCH (n:Organisation) RETURN count(n)") == 6
    assert one(session, "MATCH (:Organisation)-[r]->() RETURN count(r)") == 7
    assert one(session, "MATCH (n:Organisation:School) RETURN count(n)") == 3
    types = session.run("MATCH (:Organisation)-[r]->() RETURN type(r) AS t, count(*) AS n").data()
    assert {row["t"]: row["n"] for row in types} == {
        "COLLABORATES_ON": 1,
        "FEDERATED_WITH": 1,
        "MAINTAINED_BY": 1,
        "MEMBER_OF": 2,
        "PREDECESSOR_OF": 1,
        "SUPPORTS": 1,
    }
    school = one(session, "MATCH (n:Organisation {id: '100'}) RETURN n")
    assert school["name"] == AWKWARD and school["pupils"] == 420 and school["latitude"] == 52.5
    assert school["flagged"] is True and school["opened"].to_native() == date(2010, 9, 1)
    assert school["count"] == 7 and type(school["count"]) is int and school["score"] == 2.5
    assert "closed" not in school and school["property_name"] == "a property called name"
    lead = one(session, "MATCH (:Organisation {id: '100'})-[r:MEMBER_OF]->(:Organisation {id: 'group-5'}) RETURN r")
    assert lead["notes"] == NOTES and lead["since"].to_native() == date(2016, 9, 1) and "until" not in lead
    support = one(session, "MATCH ()-[r:SUPPORTS]->() RETURN r")
    assert support["weight"] == 1.5 and support["hours"] == 40 and support["sla_who_pays"] == "LA & trust"
    # Running the script again changes nothing: every statement merges on ids.
    cypher_shell(uri, path)
    again = one(session, "MATCH (n:Organisation) RETURN count(n)"), one(session, "MATCH ()-[r]->() RETURN count(r)")
    assert again == (6, 7)


@pytest.mark.neo4j
def test_hostile_keys_arrive_as_keys_in_neo4j(neo4j_session: tuple[str, Any], tmp_path: Path) -> None:
    """Regression (issue 15, item 3): a key holding \\u0060 made a researcher's import create a :Pwned node."""
    uri, session = neo4j_session
    path = tmp_path / "evil.cypher"
    path.write_text(hostile_script(), encoding="utf-8")
    cypher_shell(uri, path)
    assert one(session, "MATCH (n:Pwned) RETURN count(n)") == 0
    evil = dict(one(session, "MATCH (n:Organisation {id: '900'}) RETURN n"))
    nan = evil.pop("nan")
    assert nan != nan, "NaN arrives as NaN"
    assert evil == {
        "id": "900",
        "kind": "school",
        "name": "Evil \\u0060 School",
        "status": "open",
        "urn": 900,
        "a\\u0060}) CREATE (:Pwned) //": "backtick escape",
        "x:LABEL": "colon",
        "MATCH": 1,
        "null": True,
        "big": "18446744073709551616",
        "small": -(2**63),
        "inf": float("inf"),
        "v\\u000aw": "q\\u0027",
    }
    labels = one(session, "MATCH (n:Organisation {id: '900'}) RETURN labels(n)")
    assert sorted(labels) == ["Organisation", "School"]
