"""Validation rules of the domain model."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from graph_service.models import (
    STORED,
    EdgeKind,
    NodeKind,
    Organisation,
    OrganisationCreate,
    Tie,
    check_endpoints,
    make_tie,
    tie_key,
)


def test_subtype_must_fit_the_kind() -> None:
    assert Organisation(id="1", kind="school", name="A", subtype="utc").subtype == "utc"
    with pytest.raises(ValidationError, match="not valid for 'school'"):
        Organisation(id="1", kind="school", name="A", subtype="multi_academy")
    with pytest.raises(ValidationError, match="takes no subtype"):
        Organisation(id="f", kind="federation", name="F", subtype="x")


def test_ids_names_and_numbers_are_checked() -> None:
    with pytest.raises(ValidationError):
        OrganisationCreate(id="bad id with spaces", kind="school", name="A")
    with pytest.raises(ValidationError):
        OrganisationCreate(id="1", kind="school", name="")
    with pytest.raises(ValidationError):
        OrganisationCreate(id="1", kind="school", name="A", fsm_pct=130)
    with pytest.raises(ValidationError):
        OrganisationCreate(id="1", kind="school", name="A", latitude=10.0)
    with pytest.raises(ValidationError, match="extra"):
        OrganisationCreate(id="1", kind="school", name="A", colour="red")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="closed date is before opened"):
        OrganisationCreate(id="1", kind="school", name="A", opened=date(2020, 1, 1), closed=date(2019, 1, 1))


@pytest.mark.parametrize(
    ("field", "real", "too_big"),
    [
        ("la_code", 330, 100_000),
        ("urn", 103120, 10_000_000),
        ("group_uid", 2044, 10_000_000),
        ("ukprn", 10012345, 100_000_000),
        ("pupils", 3450, 1_000_001),
        ("capacity", 10000, 1_000_001),
    ],
)
def test_every_integer_is_bounded_so_no_store_overflows(field: str, real: int, too_big: int) -> None:
    # 2**70 once reached SQLite and answered 500 (OverflowError); Neo4j stores 64 bits too.
    assert getattr(OrganisationCreate(id="1", kind="school", name="A", **{field: real}), field) == real
    for value in (too_big, 2**63, 2**70, -1):
        with pytest.raises(ValidationError, match=field):
            OrganisationCreate(id="1", kind="school", name="A", **{field: value})
    integers = [name for name, info in OrganisationCreate.model_fields.items() if info.annotation in (int, int | None)]
    assert field in integers and len(integers) == 6, "a new integer field needs a bound and a row here"


def test_tie_rules() -> None:
    with pytest.raises(ValidationError, match="itself"):
        make_tie(source_id="1", target_id="1", kind="supports")
    with pytest.raises(ValidationError, match="until is before since"):
        make_tie(source_id="1", target_id="2", kind="supports", since=date(2024, 1, 1), until=date(2023, 1, 1))
    with pytest.raises(ValidationError, match="needs a governance level"):
        make_tie(source_id="1", target_id="2", kind="federated_with")
    with pytest.raises(ValidationError, match="only for federated_with"):
        make_tie(source_id="1", target_id="2", kind="supports", level="soft")
    with pytest.raises(ValidationError, match="only for member_of"):
        make_tie(source_id="1", target_id="2", kind="supports", role="lead")
    with pytest.raises(ValidationError):
        make_tie(source_id="1", target_id="2", kind="befriends")


def test_tie_ids_are_stable_and_symmetric_where_the_tie_is() -> None:
    a = make_tie(source_id="1", target_id="2", kind="federated_with", level="soft")
    b = make_tie(source_id="2", target_id="1", kind="federated_with", level="hard_governance")
    assert a.id == b.id == "federated_with:1:2"
    assert tie_key(EdgeKind.SUPPORTS, "1", "2") != tie_key(EdgeKind.SUPPORTS, "2", "1")
    joined = make_tie(source_id="1", target_id="group-5", kind="member_of", since=date(2020, 9, 1))
    assert joined.id == "member_of:1:group-5:2020-09-01"
    assert make_tie(source_id="1", target_id="2", kind="collaborates_on", focus="Joint Staffing").focus == (
        "joint_staffing"
    )


def test_current_and_endpoints() -> None:
    t = make_tie(source_id="1", target_id="2", kind="supports", since=date(2020, 1, 1), until=date(2021, 1, 1))
    assert t.is_current(date(2020, 6, 1)) and not t.is_current(date(2022, 1, 1))
    member = make_tie(source_id="1", target_id="la-1", kind="member_of")
    assert check_endpoints(member, NodeKind.SCHOOL, NodeKind.LOCAL_AUTHORITY) == (
        "member_of cannot end at a local_authority"
    )
    assert check_endpoints(member, NodeKind.SCHOOL, NodeKind.PARTNERSHIP) is None
    assert NodeKind.TEACHING_SCHOOL_HUB.label == "TeachingSchoolHub" and EdgeKind.MEMBER_OF.rel_type == "MEMBER_OF"
    assert not EdgeKind.MAINTAINED_BY.is_collaboration and EdgeKind.SUPPORTS.is_collaboration


@pytest.mark.parametrize("number", [0, 1e-308, 20240901])
def test_dates_are_days_never_numbers(number: float) -> None:
    # Pydantic alone reads a number as seconds since 1970: a typo would silently become 1970-01-01.
    with pytest.raises(ValidationError, match="YYYY-MM-DD, not a number"):
        OrganisationCreate.model_validate_json(f'{{"id": "1", "kind": "school", "name": "A", "ofsted_date": {number}}}')
    with pytest.raises(ValidationError, match="YYYY-MM-DD, not a number"):
        make_tie(source_id="1", target_id="2", kind=EdgeKind.SUPPORTS, since=number)
    assert OrganisationCreate.model_validate_json(
        '{"id": "1", "kind": "school", "name": "A", "opened": "2024-09-01"}'
    ).opened == date(2024, 9, 1)


def test_stored_json_reads_back_equal_and_only_the_text_scans_are_skipped() -> None:
    org = Organisation(
        id="100000",
        kind="school",
        name="Oak",
        subtype="community",
        properties={"gender": "Mixed", "age_low": 4},
        inspections=[{"date": "2023-05-10", "kind": "graded", "overall": 2, "judgements": {"quality_of_education": 2}}],
    )
    assert Organisation.model_validate_json(org.model_dump_json(), context=STORED) == org
    evil = org.model_dump_json().replace('"Oak"', '"Oak\\u001b[2J"')
    with pytest.raises(ValidationError, match="control or invisible character"):
        Organisation.model_validate_json(evil)  # input from users is always scanned
    assert Organisation.model_validate_json(evil, context=STORED).name == "Oak\x1b[2J"
    # The other rules still hold for stored JSON: types, bounds, subtypes, dates.
    with pytest.raises(ValidationError, match="not valid for 'school'"):
        Organisation.model_validate_json(org.model_dump_json().replace('"community"', '"utc_x"'), context=STORED)


def test_stored_tie_json_reads_back_equal_with_its_rules_kept() -> None:
    tie = Tie.model_validate(
        make_tie(
            source_id="100000", target_id="group-1", kind="member_of", since=date(2020, 9, 1), properties={"note": "x"}
        ).model_dump()
    )
    assert Tie.model_validate_json(tie.model_dump_json(), context=STORED) == tie
    ended_first = tie.model_dump_json().replace('"until":null', '"until":"2019-01-01"')
    with pytest.raises(ValidationError, match="until is before since"):
        Tie.model_validate_json(ended_first, context=STORED)
