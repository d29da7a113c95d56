"""A school's page and its downloads (both backends): facts, ties over time, isolation, support partners."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest

from graph_service import questions
from graph_service.models import EdgeKind, NodeKind
from graph_service.store import GraphStore, WriteBatch
from tests.factories import org, school, tie
from viz import school as page

TODAY = date(2025, 7, 18)


@pytest.fixture
def seeded(store: GraphStore) -> GraphStore:
    store.apply(
        WriteBatch(
            organisations=[
                school(
                    1,
                    "Struggling Primary",
                    ofsted_rating="special_measures",
                    ofsted_date=date(2024, 5, 1),
                    latitude=52.45,
                    longitude=-1.93,
                    pupils=200,
                    capacity=210,
                    properties={"laestab": "3302000", "age_low": 4, "age_high": 11},
                ),
                school(2, "Strong Primary", ofsted_rating="outstanding", latitude=52.46, longitude=-1.93, pupils=400),
                school(3, "Good Primary", ofsted_rating="good", latitude=52.47, longitude=-1.93, pupils=300),
                org("group-9", NodeKind.TRUST, "Trust Nine", group_uid=9),
                org("la-330", NodeKind.LOCAL_AUTHORITY, "Birmingham", la_code=330),
            ],
            ties=[
                tie("1", "la-330", EdgeKind.MAINTAINED_BY),
                tie("1", "group-9", EdgeKind.MEMBER_OF, since=date(2019, 9, 1), until=date(2022, 8, 31)),
                tie("2", "group-9", EdgeKind.MEMBER_OF, since=date(2020, 9, 1)),
                tie("3", "group-9", EdgeKind.MEMBER_OF, since=date(2021, 9, 1)),
            ],
        )  # fmt: skip
    )
    return store


def test_facts_ties_and_isolation(seeded: GraphStore) -> None:
    org = seeded.get_organisation("1")
    assert org is not None
    facts = dict(page.facts(org))
    assert facts["URN (unique reference number)"] == "1" and facts["LAESTAB (DfE number)"] == "3302000"
    assert facts["Ages"] == "4 to 11"
    assert facts["Latest Ofsted rating"] == "special measures" and facts["Last inspected"] == "2024-05-01"
    assert "Pupils eligible for free school meals" not in facts  # unknown facts are left out
    assert "Trust or federation" not in facts  # it left its trust
    lines = page.ties_over_time(seeded, org, TODAY)
    # Current first (the administrative tie), then the ended trust membership.
    assert [(line.kind, line.other_name, line.current, line.collaboration) for line in lines] == [
        ("maintained by", "Birmingham", True, False),
        ("member of", "Trust Nine", False, True),
    ]
    html = page.school_page(seeded, "1", today=TODAY)
    assert "Isolated: no current collaboration tie" in html
    assert "Not isolated: works with 1 organisation now" in page.school_page(seeded, "2", today=TODAY)
    with pytest.raises(page.NoSuchSchool):
        page.school_page(seeded, "nope")


def test_support_partners_every_reason_and_the_csv(seeded: GraphStore) -> None:
    org = seeded.get_organisation("1")
    assert org is not None
    answer, problem = page.support(seeded, org)
    assert problem is None and answer is not None
    expected = questions.support_partners(seeded, "1")
    assert [c["id"] for c in answer["candidates"]] == [c.id for c in expected.candidates] != []
    html = page.school_page(seeded, "1", today=TODAY)
    for candidate in expected.candidates:
        assert candidate.name in html
        for reason in candidate.reasons:
            assert reason.replace("'", "&#39;") in html
    text = page.candidates_csv(answer)
    heading = [line for line in text.splitlines() if line.startswith("#")]
    assert heading[0] == f"# support partners for Struggling Primary (1) as at {expected.as_at}"
    rows = list(csv.DictReader(io.StringIO("\n".join(line for line in text.splitlines() if not line.startswith("#")))))
    assert [row["name"] for row in rows] == [c.name for c in expected.candidates]
    assert [row["reasons"] for row in rows] == ["; ".join(c.reasons) for c in expected.candidates]
    first = expected.candidates[0]
    assert {f"points_{part.name}" for part in first.parts} <= set(rows[0])
    # A group has no support answer of its own, and says why.
    trust = seeded.get_organisation("group-9")
    assert trust is not None and page.support(seeded, trust) == (
        None,
        "support partners are found for schools (with a URN)",
    )


def test_the_first_screen_says_the_standing_the_trust_isolation_and_the_best_three(seeded: GraphStore) -> None:
    org = seeded.get_organisation("1")
    assert org is not None
    answer, _problem = page.support(seeded, org)
    card = page.summary(org, page.ties_over_time(seeded, org, TODAY), answer, TODAY)
    assert (card.standing, card.rating, card.since) == (
        "Special measures: a category of concern",
        "special_measures",
        "since 2024-05-01",
    )
    assert card.basis == "rated special measures (no inspection records)"
    assert card.groups == [] and card.isolated is True
    assert [line.other_name for line in card.administrative] == ["Birmingham"]
    expected = questions.support_partners(seeded, "1").candidates
    assert [line["name"] for line in card.top] == [candidate.name for candidate in expected[:3]]
    assert all(line["reason"] for line in card.top)
    member = seeded.get_organisation("2")
    assert member is not None
    card = page.summary(member, page.ties_over_time(seeded, member, TODAY), None, TODAY)
    assert [(line.other_id, line.other_kind, line.since) for line in card.groups] == [
        ("group-9", "trust", date(2020, 9, 1))
    ]
    assert card.isolated is False and card.standing == "Outstanding"
    assert dict(page.facts(member, card.groups))["Trust or federation"] == "Trust Nine (trust)"
    html = page.school_page(seeded, "2", today=TODAY)
    assert '<a href="/viz/school/group-9">Trust Nine</a> (trust, since 2020-09-01;' in html


def test_the_page_as_it_stood_on_a_day(seeded: GraphStore) -> None:
    html = page.school_page(seeded, "1", as_at=date(2020, 9, 1))
    # In 2020 it was still in Trust Nine: not isolated, the trust on the first screen.
    assert "as it stood on 2020-09-01" in html and "Not isolated: works with 1 organisation now" in html
    assert '<a href="/viz/school/group-9">Trust Nine</a> (trust, since 2019-09-01;' in html
    assert re.search(r'id="as-at" min="2002"[^>]*value="2020"', html)  # the time slider, on that year


def test_the_school_s_own_trust_is_shown_as_context_with_its_schools_that_could_support(seeded: GraphStore) -> None:
    html = page.school_page(seeded, "2", today=TODAY)
    context = html[html.index('<div id="current-trust">') :]
    context = context[: context.index("</div>")]
    assert "Its own trust, shown as context and never ranked" in context and "Trust Nine" in context
    assert "Good Primary" in context  # its school 1.1 km away, rated Good
    candidates = html[html.index('id="candidates"') :] if 'id="candidates"' in html else ""
    assert "Trust Nine" not in candidates
