"""A school's own page: its facts, inspections, ties over time, whether it is isolated, and its
support partners with every reason, at a stable address with CSV and JSON downloads.

The support answer is rendered generically from :class:`graph_service.questions.SupportAnswer`'s
fields (candidates, their parts and reasons, notes), so that changes to that model show up here
without changes to this page.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from graph_service import questions
from graph_service.models import EdgeKind, Organisation
from graph_service.spreadsheet import safe_rows
from graph_service.store import GraphStore
from graph_service.tables import words
from viz.render import templates

#: Facts shown, in order: (label, attribute or property).
FACTS = (
    ("Kind", "kind"),
    ("Type", "type_name"),
    ("Phase", "phase"),
    ("Status", "status"),
    ("URN", "urn"),
    ("LAESTAB", "laestab"),
    ("UKPRN", "ukprn"),
    ("Ages", "ages"),
    ("Pupils", "pupils"),
    ("Capacity", "capacity"),
    ("Free school meals", "fsm_pct"),
    ("Town", "town"),
    ("Postcode", "postcode"),
    ("Local authority", "local_authority"),
    ("District", "district"),
    ("Constituency", "constituency"),
    ("Urban or rural", "urban_rural"),
    ("Ofsted rating", "ofsted_rating"),
    ("Last inspected", "ofsted_date"),
    ("Opened", "opened"),
    ("Closed", "closed"),
)


class NoSuchSchool(LookupError):
    """No organisation with that id."""


@dataclass(frozen=True)
class TieLine:
    kind: str
    direction: str
    other_id: str
    other_name: str
    detail: str
    since: date | None
    until: date | None
    current: bool
    collaboration: bool


def facts(org: Organisation) -> list[tuple[str, str]]:
    """The organisation's facts as (label, text), leaving out what is unknown."""
    values: dict[str, Any] = org.model_dump()
    values.update(org.properties)
    low, high = org.properties.get("age_low"), org.properties.get("age_high")
    values["ages"] = f"{low} to {high}" if low is not None and high is not None else None
    values["fsm_pct"] = f"{org.fsm_pct:.1f}%" if org.fsm_pct is not None else None
    return [(label, words(values[key])) for label, key in FACTS if values.get(key) not in (None, "")]


def ties_over_time(store: GraphStore, org: Organisation, today: date) -> list[TieLine]:
    """Every tie, newest first, current ones before ended ones."""
    ties = store.ties_of(org.id)
    others = {
        other.id: other
        for other in store.get_organisations([t.target_id if t.source_id == org.id else t.source_id for t in ties])
    }
    lines = []
    for tie in ties:
        outgoing = tie.source_id == org.id
        other_id = tie.target_id if outgoing else tie.source_id
        other = others.get(other_id)
        detail = ", ".join(words(part) for part in (tie.level, tie.role, tie.focus) if part)
        lines.append(
            TieLine(
                kind=words(tie.kind),
                direction="to" if outgoing else "from",
                other_id=other_id,
                other_name=other.name if other else other_id,
                detail=detail,
                since=tie.since,
                until=tie.until,
                current=tie.is_current(today),
                collaboration=EdgeKind(tie.kind).is_collaboration,
            )
        )
    return sorted(lines, key=lambda line: (not line.current, -(line.since or date.min).toordinal(), line.other_name))


def support(store: GraphStore, org: Organisation) -> tuple[dict[str, Any] | None, str | None]:
    """The support answer as plain JSON data, or why there is none."""
    if org.urn is None:
        return None, "support partners are found for schools (with a URN)"
    try:
        answer = questions.support_partners(store, str(org.urn))
    except questions.QuestionError as exc:
        return None, str(exc)
    data: dict[str, Any] = answer.model_dump(mode="json")
    return data, None


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(_plain(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(
            f"{words(key)}: {_plain(item)}" for key, item in value.items() if item not in (None, "", [], {})
        )
    return "" if value is None else str(value)


def candidate_rows(answer: dict[str, Any]) -> list[dict[str, str]]:
    """One flat row per candidate: its plain fields, each part's points, then its reasons.

    >>> rows = candidate_rows({"candidates": [{"rank": 1, "name": "A", "parts": [{"name": "distance",
    ...     "points": 12.5, "reason": "2 km"}], "reasons": ["near", "rated good"]}]})
    >>> rows[0]
    {'rank': '1', 'name': 'A', 'points_distance': '12.5', 'why_distance': '2 km', 'reasons': 'near; rated good'}
    """
    rows = []
    for candidate in answer.get("candidates", []):
        row = {key: _plain(value) for key, value in candidate.items() if key not in ("parts", "reasons")}
        for part in candidate.get("parts", []):
            row[f"points_{part.get('name')}"] = _plain(part.get("points"))
            row[f"why_{part.get('name')}"] = _plain(part.get("reason"))
        row["reasons"] = _plain(candidate.get("reasons", []))
        rows.append(row)
    return rows


def candidates_csv(answer: dict[str, Any]) -> str:
    """The candidates as CSV (one row each), headed by the school and the date, for a spreadsheet."""
    rows = candidate_rows(answer)
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    out = io.StringIO()
    school = answer.get("school", {})
    out.write(
        f"# support partners for {school.get('name', '')} ({school.get('id', '')}) as at {answer.get('as_at', '')}\n"
    )
    for note in answer.get("notes", []):
        out.write(f"# note: {_plain(note)}\n")
    writer = csv.DictWriter(out, fieldnames=columns or ["rank"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(safe_rows(rows))
    return out.getvalue()


def school_page(store: GraphStore, org_id: str, root: str = "", today: date | None = None) -> str:
    """The page as HTML."""
    org = store.get_organisation(org_id)
    if org is None:
        raise NoSuchSchool(f"no organisation with id {org_id!r}")
    day = today or date.today()
    ties = ties_over_time(store, org, day)
    current_collaboration = [tie for tie in ties if tie.current and tie.collaboration]
    answer, problem = support(store, org)
    inspections = [
        item.model_dump(mode="json", exclude_none=True) if hasattr(item, "model_dump") else dict(item)
        for item in getattr(org, "inspections", None) or []
    ]
    inspection_columns: list[str] = []
    for item in inspections:
        inspection_columns.extend(key for key in item if key not in inspection_columns and item[key] not in ({}, []))
    return (
        templates()
        .get_template("school.html")
        .render(
            root=root,
            org=org,
            facts=facts(org),
            kind=words(org.kind),
            ties=ties,
            isolated=org.kind.value == "school" and not current_collaboration,
            current_collaboration=current_collaboration,
            inspections=inspections,
            inspection_columns=inspection_columns,
            answer=answer,
            rows=candidate_rows(answer) if answer else [],
            problem=problem,
            words=words,
            plain=_plain,
            data_date=store.get_meta().get("data_date"),
            today=day.isoformat(),
        )
    )
