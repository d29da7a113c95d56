"""A school's own page: its facts, inspections, ties over time, whether it is isolated, and its
support partners with every reason, at a stable address with CSV and JSON downloads.

The support answer is rendered generically from :class:`graph_service.questions.SupportAnswer`'s
fields (candidates, their parts and reasons, notes), so that changes to that model show up here
without changes to this page.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from graph_service import questions
from graph_service.analytics.standing import judgement_words, standing_on
from graph_service.models import EdgeKind, Organisation
from graph_service.spreadsheet import safe_rows
from graph_service.store import GraphStore
from graph_service.tables import words
from viz.national import years
from viz.render import templates

#: Facts shown, in order: (label, attribute or property).
FACTS = (
    ("Kind", "kind"),
    ("Type", "type_name"),
    ("Phase", "phase"),
    ("Status", "status"),
    ("Trust or federation", "groups"),
    ("Religious character", "religious_character"),
    ("Diocese", "diocese"),
    ("Boys, girls or mixed", "gender"),
    ("URN (unique reference number)", "urn"),
    ("LAESTAB (DfE number)", "laestab"),
    ("UKPRN (provider number)", "ukprn"),
    ("Ages", "ages"),
    ("Pupils", "pupils"),
    ("Places (capacity)", "capacity"),
    ("Pupils eligible for free school meals", "fsm_pct"),
    ("Town", "town"),
    ("Postcode", "postcode"),
    ("Local authority", "local_authority"),
    ("District", "district"),
    ("Constituency", "constituency"),
    ("Urban or rural", "urban_rural"),
    ("Latest Ofsted rating", "ofsted_rating"),
    ("Last inspected", "ofsted_date"),
    ("Opened", "opened"),
    ("Closed", "closed"),
)

#: Ofsted's categories of concern, in words.
CATEGORIES = {
    "SM": "special measures",
    "SWK": "serious weaknesses",
    "RSI": "requires significant improvement",
    "NTI": "notice to improve",
}
#: A standing in plain words, for the first line of the page.
STANDING_WORDS = {
    "outstanding": "Outstanding",
    "good": "Good",
    "requires_improvement": "Requires improvement",
    "serious_weaknesses": "Serious weaknesses: a category of concern",
    "special_measures": "Special measures: a category of concern",
    "inadequate": "Inadequate",
    "insufficient_evidence": "Insufficient evidence",
}
#: Plain labels for the fields of a support answer that are not self-explanatory.
LABELS = {
    "fit": "stage fit (1 same, 0.5 compatible, 0 not)",
    "in_local_authority": "in the same local authority",
    "distance_km": "km",
    "schools_near": "schools near by",
    "type_name": "type",
    "ofsted_rating": "Ofsted",
    "opened": "opened or joined",
}
#: Kinds of group a school belongs to, shown on the first screen.
GROUP_KINDS = frozenset({"trust", "federation"})


class NoSuchSchool(LookupError):
    """No organisation with that id."""


@dataclass(frozen=True)
class TieLine:
    kind: str
    direction: str
    other_id: str
    other_name: str
    other_kind: str
    detail: str
    since: date | None
    until: date | None
    current: bool
    collaboration: bool


def facts(org: Organisation, groups: Sequence[TieLine] = ()) -> list[tuple[str, str]]:
    """The organisation's facts as (label, text), leaving out what is unknown."""
    values: dict[str, Any] = org.model_dump()
    values.update(org.properties)
    values["groups"] = "; ".join(f"{tie.other_name} ({words(tie.other_kind)})" for tie in groups) or None
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
                other_kind=other.kind.value if other else "",
                detail=detail,
                since=tie.since,
                until=tie.until,
                current=tie.is_current(today),
                collaboration=EdgeKind(tie.kind).is_collaboration,
            )
        )
    return sorted(lines, key=lambda line: (not line.current, -(line.since or date.min).toordinal(), line.other_name))


def support(
    store: GraphStore, org: Organisation, as_at: date | None = None
) -> tuple[dict[str, Any] | None, str | None]:
    """The support answer (on ``as_at``, today by default) as plain JSON data, or why there is none."""
    if org.urn is None:
        return None, "support partners are found for schools (with a URN)"
    try:
        answer = questions.support_partners(store, str(org.urn), as_at=as_at)
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


@dataclass(frozen=True)
class Summary:
    """What the first screen says: the standing, the groups, whether isolated, the best support lines."""

    standing: str
    rating: str | None
    since: str
    basis: str
    judgements: str
    groups: list[TieLine]
    isolated: bool | None
    working_with: list[TieLine]
    administrative: list[TieLine]
    top: list[dict[str, Any]]


def _standing(org: Organisation, answer: dict[str, Any] | None, day: date) -> dict[str, Any]:
    """The standing on the day: the support answer's (the rule in docs/questions.md), else read from the record."""
    if answer is not None:
        brief: dict[str, Any] = answer.get("school", {})
        return {key: brief.get(key) for key in ("ofsted_rating", "ofsted_date", "standing_basis", "judgements")}
    attrs: dict[str, Any] = {
        "ofsted_rating": org.ofsted_rating.value if org.ofsted_rating else None,
        "inspections": [item.model_dump(mode="json", exclude_none=True) for item in org.inspections or []],
    }
    found = standing_on(attrs, day)
    if found is None:
        return {}
    inspection = found.inspection
    return {
        "ofsted_rating": found.rating,
        "ofsted_date": inspection["date"] if inspection else org.ofsted_date,
        "standing_basis": found.basis,
        "judgements": found.judgements,
    }


def summary(org: Organisation, ties: list[TieLine], answer: dict[str, Any] | None, day: date) -> Summary:
    """The first screen of the page, from the ties and the support answer.

    >>> line = TieLine("member of", "to", "group-1", "T Trust", "trust", "", None, None, True, True)
    >>> card = summary(Organisation(id="1", kind="school", name="A"), [line], None, date(2025, 1, 1))
    >>> card.standing, [tie.other_name for tie in card.groups], card.isolated
    ('No Ofsted standing on record', ['T Trust'], False)
    """
    standing = _standing(org, answer, day)
    rating = standing.get("ofsted_rating")
    when = standing.get("ofsted_date")
    current = [tie for tie in ties if tie.current]
    collaboration = [tie for tie in current if tie.collaboration]
    best = (answer or {}).get("candidates", [])[:3]
    # A reason every line gives ("a trust: it can take the school in") tells them apart by nothing.
    shared = set.intersection(*(set(map(_plain, c.get("reasons") or [])) for c in best)) if len(best) > 1 else set()
    top = []
    for candidate in best:
        own = [_plain(reason) for reason in candidate.get("reasons") or []]
        top.append({**candidate, "reason": "; ".join(([r for r in own if r not in shared] or own)[:2])})
    return Summary(
        standing=STANDING_WORDS.get(str(rating), words(rating)) if rating else "No Ofsted standing on record",
        rating=str(rating) if rating else None,
        since=f"since {when}" if when else "",
        basis=spell_categories(_plain(standing.get("standing_basis"))),
        judgements=spell_categories(_plain(standing.get("judgements"))),
        groups=[tie for tie in collaboration if tie.other_kind in GROUP_KINDS],
        isolated=not collaboration if org.kind.value == "school" else None,
        working_with=collaboration,
        administrative=[tie for tie in current if not tie.collaboration],
        top=top,
    )


_CATEGORY = re.compile(r"\b(category of concern:?) (" + "|".join(CATEGORIES) + r")\b")


def spell_categories(text: str) -> str:
    """Ofsted's codes for categories of concern in words.

    >>> spell_categories("overall effectiveness 4, category of concern SM")
    'overall effectiveness 4, category of concern: special measures'
    """
    return _CATEGORY.sub(lambda found: f"category of concern: {CATEGORIES[found.group(2)]}", text)


def inspection_rows(org: Organisation) -> list[dict[str, str]]:
    """Each inspection, newest first, in words: date, kind, what it found (category codes spelt out)."""
    rows = []
    for item in sorted(org.inspections or [], key=lambda inspection: inspection.date, reverse=True):
        data = item.model_dump(mode="json", exclude_none=True)
        category = data.get("category")
        if category:
            data["category"] = CATEGORIES.get(str(category), str(category))
        rows.append(
            {
                "date": str(item.date),
                "kind": words(item.kind),
                "found": judgement_words(data),
                "published": str(item.published or ""),
                "type": item.inspection_type or "",
            }
        )
    return rows


def label(key: str) -> str:
    """A field of the support answer in plain words.

    >>> label("fit"), label("schools_near"), label("via_name")
    ('stage fit (1 same, 0.5 compatible, 0 not)', 'schools near by', 'via name')
    """
    return LABELS.get(key, words(key))


def school_page(
    store: GraphStore, org_id: str, root: str = "", today: date | None = None, as_at: date | None = None
) -> str:
    """The page as HTML, as things stood on ``as_at`` (today by default)."""
    org = store.get_organisation(org_id)
    if org is None:
        raise NoSuchSchool(f"no organisation with id {org_id!r}")
    day = as_at or today or date.today()
    ties = ties_over_time(store, org, day)
    current_collaboration = [tie for tie in ties if tie.current and tie.collaboration]
    answer, problem = support(store, org, as_at)
    card = summary(org, ties, answer, day)
    return (
        templates()
        .get_template("school.html")
        .render(
            root=root,
            org=org,
            facts=facts(org, card.groups),
            kind=words(org.kind),
            card=card,
            ties=ties,
            isolated=card.isolated,
            current_collaboration=current_collaboration,
            inspections=inspection_rows(org),
            answer=answer,
            problem=problem,
            words=words,
            plain=_plain,
            label=label,
            data_date=store.get_meta().get("data_date"),
            today=day.isoformat(),
            as_at=as_at,
            years=years(store),
        )
    )
