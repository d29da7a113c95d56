"""The Cypher script: literals escaped, one statement a line, and it rebuilds the graph in a real Neo4j."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from graph_service.export import ATTRIBUTION, ExportFormat, ExportSpec, prepare_export
from graph_service.export.records import AttrType
from graph_service.export.textformats import cypher_key, cypher_literal, cypher_string
from graph_service.store import EmbeddedStore
from tests.conftest import neo4j_uri
from tests.graph_service.export.awkward import AWKWARD, NOTES


def script(store: EmbeddedStore, spec: ExportSpec | None = None) -> str:
    return b"".join(prepare_export(store, spec or ExportSpec(), ExportFormat.CYPHER).chunks()).decode("utf-8")


def statements(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("//")]


def test_string_literals_are_escaped() -> None:
    assert cypher_string("O'Brien") == r"'O\'Brien'"
    assert cypher_string('a\\b "c"\n\r\t') == r"""'a\\b "c"\n\r\t'"""
    assert cypher_string("bell\x07 line\u2028sep") == r"'bell\u0007 line\u2028sep'"
    assert cypher_key("la_code") == "la_code" and cypher_key("my key") == "`my key`"
    assert cypher_literal(AttrType.DATE)(date(2016, 9, 1)) == "date('2016-09-01')"
    assert cypher_literal(AttrType.STRING)(3) == "'3'" and cypher_literal(AttrType.INT)(7) == "7"


def test_script_header_and_one_statement_a_line(awkward: EmbeddedStore) -> None:
    text = script(awkward)
    header = [line for line in text.splitlines() if line.startswith("//")]
    assert f"// attribution: {ATTRIBUTION}" in header and "// data_date: 2025-07-18" in header
    assert "// source:ties.csv: 2025-06-30" in header
    lines = statements(text)
    assert lines[0].startswith("CREATE CONSTRAINT organisation_id") and all(line.endswith(";") for line in lines)
    # Labels and types come from the enums; awkward text appears only inside string literals.
    assert any("SET n:FeCollege, n += row;" in line for line in lines)
    assert any("MERGE (a)-[r:PREDECESSOR_OF {id: row.p.id}]->(b)" in line for line in lines)


@pytest.fixture
def neo4j_session() -> Iterator[Any]:
    """A session on the test Neo4j's database, without organisations before and after.

    Only what the script creates is deleted: the store's own bookkeeping nodes stay.
    """
    uri = neo4j_uri()
    if uri is None:
        pytest.skip("NEO4J_URI not set: Neo4j tests skipped (they fail instead under CI=true)")
    from neo4j import GraphDatabase

    auth = (os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", ""))
    with (
        GraphDatabase.driver(uri, auth=auth) as driver,
        driver.session(database=os.environ.get("NEO4J_DATABASE", "neo4j")) as session,
    ):
        session.run("MATCH (n:Organisation) DETACH DELETE n").consume()
        try:
            yield session
        finally:
            session.run("MATCH (n:Organisation) DETACH DELETE n").consume()


@pytest.mark.neo4j
def test_script_rebuilds_the_graph_in_neo4j(awkward: EmbeddedStore, neo4j_session: Any) -> None:
    text = script(awkward)
    for statement in statements(text):
        neo4j_session.run(statement).consume()

    def one(query: str) -> Any:
        return neo4j_session.run(query).single(strict=True)[0]

    assert one("MATCH (n:Organisation) RETURN count(n)") == 6
    assert one("MATCH (:Organisation)-[r]->() RETURN count(r)") == 7
    assert one("MATCH (n:Organisation:School) RETURN count(n)") == 3
    types = neo4j_session.run("MATCH (:Organisation)-[r]->() RETURN type(r) AS t, count(*) AS n").data()
    assert {row["t"]: row["n"] for row in types} == {
        "COLLABORATES_ON": 1,
        "FEDERATED_WITH": 1,
        "MAINTAINED_BY": 1,
        "MEMBER_OF": 2,
        "PREDECESSOR_OF": 1,
        "SUPPORTS": 1,
    }
    school = one("MATCH (n:Organisation {id: '100'}) RETURN n")
    assert school["name"] == AWKWARD and school["pupils"] == 420 and school["latitude"] == 52.5
    assert school["flagged"] is True and school["opened"].to_native() == date(2010, 9, 1)
    assert "closed" not in school and school["property_name"] == "a property called name"
    lead = one("MATCH (:Organisation {id: '100'})-[r:MEMBER_OF]->(:Organisation {id: 'group-5'}) RETURN r")
    assert lead["notes"] == NOTES and lead["since"].to_native() == date(2016, 9, 1) and "until" not in lead
    # Running the script again changes nothing: every statement merges on ids.
    for statement in statements(text):
        neo4j_session.run(statement).consume()
    again = one("MATCH (n:Organisation) RETURN count(n)"), one("MATCH (:Organisation)-[r]->() RETURN count(r)")
    assert again == (6, 7)
