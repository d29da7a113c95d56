"""Domain model: organisations (nodes) and collaboration ties (edges).

Every label, relationship type and category used anywhere in the service comes
from the enums below; input text never becomes a label or a type.
"""

from __future__ import annotations

import math
import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator


class NodeKind(StrEnum):
    """What an organisation is."""

    SCHOOL = "school"
    FE_COLLEGE = "fe_college"
    TRUST = "trust"
    FEDERATION = "federation"
    TEACHING_SCHOOL_HUB = "teaching_school_hub"
    TEACHING_SCHOOL_ALLIANCE = "teaching_school_alliance"
    LOCAL_AUTHORITY = "local_authority"
    PARTNERSHIP = "partnership"
    SPONSOR = "sponsor"
    COMMUNITY_PARTNER = "community_partner"

    @property
    def label(self) -> str:
        """The Neo4j label for this kind (CamelCase, from the enum only)."""
        return "".join(part.capitalize() for part in self.value.split("_"))


class EdgeKind(StrEnum):
    """What a tie between two organisations is."""

    MEMBER_OF = "member_of"
    FEDERATED_WITH = "federated_with"
    SUPPORTS = "supports"
    COLLABORATES_ON = "collaborates_on"
    MAINTAINED_BY = "maintained_by"
    SPONSORED_BY = "sponsored_by"
    PREDECESSOR_OF = "predecessor_of"

    @property
    def rel_type(self) -> str:
        """The Neo4j relationship type for this kind (from the enum only)."""
        return self.value.upper()

    @property
    def is_collaboration(self) -> bool:
        """Administrative and historical links are not collaboration."""
        return self not in (EdgeKind.MAINTAINED_BY, EdgeKind.PREDECESSOR_OF)


class GovernanceLevel(StrEnum):
    """The federation continuum, strongest first."""

    HARD_GOVERNANCE = "hard_governance"
    SOFT_GOVERNANCE = "soft_governance"
    SOFT = "soft"
    LOOSE_COLLABORATION = "loose_collaboration"


class MemberRole(StrEnum):
    """A member's role in a trust, federation, alliance, hub or partnership."""

    LEAD = "lead"
    MEMBER = "member"
    SPONSOR = "sponsor"


class Status(StrEnum):
    """GIAS establishment status, also used for groups."""

    OPEN = "open"
    CLOSED = "closed"
    PROPOSED_TO_OPEN = "proposed_to_open"
    OPEN_PROPOSED_TO_CLOSE = "open_proposed_to_close"

    @property
    def is_current(self) -> bool:
        return self in (Status.OPEN, Status.OPEN_PROPOSED_TO_CLOSE)


class Phase(StrEnum):
    """Phase of education."""

    NURSERY = "nursery"
    PRIMARY = "primary"
    MIDDLE_DEEMED_PRIMARY = "middle_deemed_primary"
    MIDDLE_DEEMED_SECONDARY = "middle_deemed_secondary"
    SECONDARY = "secondary"
    ALL_THROUGH = "all_through"
    SIXTEEN_PLUS = "16_plus"
    NOT_APPLICABLE = "not_applicable"


class OfstedRating(StrEnum):
    """Ofsted overall effectiveness, including the two causes for concern."""

    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"
    SERIOUS_WEAKNESSES = "serious_weaknesses"
    SPECIAL_MEASURES = "special_measures"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"

    @property
    def in_difficulty(self) -> bool:
        return self in DIFFICULTY_RATINGS

    @property
    def risk(self) -> int:
        """Higher is worse; used to sort isolated schools by risk."""
        return RATING_RISK[self]


DIFFICULTY_RATINGS = frozenset(
    {
        OfstedRating.SPECIAL_MEASURES,
        OfstedRating.SERIOUS_WEAKNESSES,
        OfstedRating.INADEQUATE,
        OfstedRating.REQUIRES_IMPROVEMENT,
    }
)
RATING_RISK = {
    OfstedRating.SPECIAL_MEASURES: 5,
    OfstedRating.SERIOUS_WEAKNESSES: 4,
    OfstedRating.INADEQUATE: 4,
    OfstedRating.REQUIRES_IMPROVEMENT: 3,
    OfstedRating.INSUFFICIENT_EVIDENCE: 1,
    OfstedRating.GOOD: 0,
    OfstedRating.OUTSTANDING: 0,
}


class InspectionKind(StrEnum):
    """What kind of Ofsted inspection a record is."""

    GRADED = "graded"
    UNGRADED = "ungraded"
    REPORT_CARD = "report_card"


class ConcernCategory(StrEnum):
    """Ofsted's categories of concern: special measures, serious weaknesses, requires significant
    improvement (report cards, since November 2025) and notice to improve (before 2012)."""

    SM = "SM"
    SWK = "SWK"
    RSI = "RSI"
    NTI = "NTI"


class GradedJudgement(StrEnum):
    """Sub-judgements of a graded inspection (1-4), as Ofsted names them."""

    QUALITY_OF_EDUCATION = "quality_of_education"
    BEHAVIOUR_AND_ATTITUDES = "behaviour_and_attitudes"
    PERSONAL_DEVELOPMENT = "personal_development"
    LEADERSHIP_AND_MANAGEMENT = "leadership_and_management"
    EARLY_YEARS = "early_years"
    SIXTH_FORM = "sixth_form"


class ReportCardArea(StrEnum):
    """Evaluation areas of a report card (November 2025 on), as Ofsted names them."""

    INCLUSION = "inclusion"
    CURRICULUM_AND_TEACHING = "curriculum_and_teaching"
    ACHIEVEMENT = "achievement"
    ATTENDANCE_AND_BEHAVIOUR = "attendance_and_behaviour"
    PERSONAL_DEVELOPMENT_AND_WELLBEING = "personal_development_and_wellbeing"
    EARLY_YEARS = "early_years"
    POST_16 = "post_16"
    LEADERSHIP_AND_GOVERNANCE = "leadership_and_governance"


class ReportCardGrade(StrEnum):
    """A report card's grade of one area, best first."""

    EXCEPTIONAL = "exceptional"
    STRONG_STANDARD = "strong_standard"
    EXPECTED_STANDARD = "expected_standard"
    NEEDS_ATTENTION = "needs_attention"
    URGENT_IMPROVEMENT = "urgent_improvement"


class SchoolType(StrEnum):
    """Broad type of a school, from GIAS TypeOfEstablishment."""

    COMMUNITY = "community"
    VOLUNTARY_AIDED = "voluntary_aided"
    VOLUNTARY_CONTROLLED = "voluntary_controlled"
    FOUNDATION = "foundation"
    NURSERY_SCHOOL = "nursery_school"
    SPECIAL = "special"
    PUPIL_REFERRAL_UNIT = "pupil_referral_unit"
    ALTERNATIVE_PROVISION = "alternative_provision"
    ACADEMY_CONVERTER = "academy_converter"
    ACADEMY_SPONSOR_LED = "academy_sponsor_led"
    FREE_SCHOOL = "free_school"
    STUDIO_SCHOOL = "studio_school"
    UTC = "utc"
    CITY_TECHNOLOGY_COLLEGE = "city_technology_college"
    INDEPENDENT = "independent"
    OTHER = "other"


class CollegeType(StrEnum):
    FURTHER_EDUCATION = "further_education"
    SIXTH_FORM_COLLEGE = "sixth_form_college"
    SPECIAL_POST_16 = "special_post_16"
    HIGHER_EDUCATION = "higher_education"


class TrustType(StrEnum):
    MULTI_ACADEMY = "multi_academy"
    SINGLE_ACADEMY = "single_academy"
    SECURE_SINGLE_ACADEMY = "secure_single_academy"
    UMBRELLA = "umbrella"
    FOUNDATION = "foundation"


class PartnershipType(StrEnum):
    AREA_PARTNERSHIP = "area_partnership"
    LEARNING_PARTNERSHIP = "learning_partnership"
    NETWORK = "network"


class PartnerType(StrEnum):
    EMPLOYER = "employer"
    SPORTS_CLUB = "sports_club"
    FAITH_GROUP = "faith_group"
    TRADE_UNION = "trade_union"
    CAREERS_SERVICE = "careers_service"
    VOLUNTARY_PROVIDER = "voluntary_provider"
    PRIVATE_PROVIDER = "private_provider"
    CHILDRENS_CENTRE = "childrens_centre"
    UNIVERSITY = "university"
    OTHER = "other"


class CollaborationFocus(StrEnum):
    JOINT_STAFFING = "joint_staffing"
    CURRICULUM_14_19 = "curriculum_14_19"
    EXTENDED_SERVICES = "extended_services"
    CPD = "cpd"
    BEHAVIOUR = "behaviour"
    TRANSITION = "transition"
    SCHOOL_IMPROVEMENT = "school_improvement"
    OTHER = "other"


#: Which subtypes each kind accepts (``None``: subtype must be empty).
SUBTYPES: dict[NodeKind, type[StrEnum] | None] = {
    NodeKind.SCHOOL: SchoolType,
    NodeKind.FE_COLLEGE: CollegeType,
    NodeKind.TRUST: TrustType,
    NodeKind.FEDERATION: None,
    NodeKind.TEACHING_SCHOOL_HUB: None,
    NodeKind.TEACHING_SCHOOL_ALLIANCE: None,
    NodeKind.LOCAL_AUTHORITY: None,
    NodeKind.PARTNERSHIP: PartnershipType,
    NodeKind.SPONSOR: None,
    NodeKind.COMMUNITY_PARTNER: PartnerType,
}

PROVIDERS = frozenset({NodeKind.SCHOOL, NodeKind.FE_COLLEGE})
GROUPS = frozenset(
    {
        NodeKind.TRUST,
        NodeKind.FEDERATION,
        NodeKind.TEACHING_SCHOOL_HUB,
        NodeKind.TEACHING_SCHOOL_ALLIANCE,
        NodeKind.PARTNERSHIP,
    }
)
ANY_KIND = frozenset(NodeKind)

#: Allowed (source kinds, target kinds) for each tie kind.
ENDPOINTS: dict[EdgeKind, tuple[frozenset[NodeKind], frozenset[NodeKind]]] = {
    EdgeKind.MEMBER_OF: (
        PROVIDERS | {NodeKind.TRUST, NodeKind.COMMUNITY_PARTNER, NodeKind.LOCAL_AUTHORITY},
        GROUPS,
    ),
    EdgeKind.FEDERATED_WITH: (PROVIDERS, PROVIDERS),
    EdgeKind.SUPPORTS: (
        PROVIDERS | GROUPS | {NodeKind.COMMUNITY_PARTNER, NodeKind.LOCAL_AUTHORITY},
        PROVIDERS,
    ),
    EdgeKind.COLLABORATES_ON: (ANY_KIND, ANY_KIND),
    EdgeKind.MAINTAINED_BY: (PROVIDERS, frozenset({NodeKind.LOCAL_AUTHORITY})),
    EdgeKind.SPONSORED_BY: (PROVIDERS | {NodeKind.TRUST}, frozenset({NodeKind.SPONSOR, NodeKind.TRUST})),
    EdgeKind.PREDECESSOR_OF: (PROVIDERS, PROVIDERS),
}

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
_SLUG_STRIP = re.compile(r"[^a-z0-9]+")

Scalar = str | int | float | bool | None

# Real-world maxima, generous: they keep integers within what SQLite and Neo4j store (64 bits).
#: Local authority codes are three digits (330); GIAS uses 0 for "does not apply".
MAX_LA_CODE = 99_999
#: URNs and group UIDs are six digits today; seven leaves room.
MAX_URN = 9_999_999
MAX_GROUP_UID = 9_999_999
#: UKPRNs are eight digits.
MAX_UKPRN = 99_999_999
#: The largest school has a few thousand pupils; FE colleges count tens of thousands.
MAX_HEADCOUNT = 1_000_000


def _calendar_date(value: Any) -> Any:
    """Refuse numbers as dates: pydantic would read 0 or 1e-308 as 1 January 1970."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("a date is written YYYY-MM-DD, not a number")
    return value


#: A calendar day, given as ``YYYY-MM-DD`` (or a ``date`` in Python), never as a number.
Day = Annotated[date, BeforeValidator(_calendar_date)]

#: The days a question, picture or export may be asked about (``as_at``, ``--as-at``...): the analytics
#: count years back from it and ties run to the end of time, which would overflow near years 1 and 9999.
QUERY_DAYS = (date(1800, 1, 1), date(2199, 12, 31))


def check_query_day(day: date) -> date:
    """The one check of every date a caller asks about (API query parameters and CLI options alike).

    >>> check_query_day(date(2025, 9, 1))
    datetime.date(2025, 9, 1)
    >>> check_query_day(date(1, 1, 1))
    Traceback (most recent call last):
    ValueError: 0001-01-01 is outside the dates the service answers for (1800-01-01 to 2199-12-31)
    """
    first, last = QUERY_DAYS
    if not first <= day <= last:
        raise ValueError(f"{day.isoformat()} is outside the dates the service answers for ({first} to {last})")
    return day


def _exact_id(value: Any) -> Any:
    """Refuse an id that is not already in its one canonical form.

    Checked before pydantic strips whitespace: ``"103120 "`` stripped to ``"103120"`` would let a
    check read one record and the write replace another.
    """
    if isinstance(value, str) and not _ID_RE.fullmatch(value):
        raise ValueError(
            "an id is 1-128 characters: letters, digits, '_', '.', ':' or '-', starting with a letter or digit"
        )
    return value


#: Unicode's noncharacters (U+FDD0-FDEF and the last two code points of every plane) and tag
#: characters (U+E0000-E007F, invisible): never text, anywhere.
_NEVER_TEXT = "\ufdd0-\ufdef" + "".join(f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(17))
_NEVER_TEXT += "\U000e0000-\U000e007f"
#: Characters no stored text may hold: C0 and C1 controls (ESC, BEL, NUL...), lone surrogates (not
#: encodable as UTF-8), bidirectional overrides (text that displays other than it reads), the above.
_FORBIDDEN_TEXT = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069{_NEVER_TEXT}]")
#: ...and, in one-line fields (names, ids, keys), line breaks and tabs too, the line and paragraph
#: separators (U+2028, U+2029), and the invisible characters that make two names look alike: zero-width
#: spaces and joiners, word joiner and invisible operators, the byte-order mark, bidirectional marks.
_FORBIDDEN_LINE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069"
    f"\u2028\u2029\u200b-\u200f\u2060-\u2064\ufeff\u061c\u180e{_NEVER_TEXT}]"
)
#: Property keys: a safe identifier, so that no export format can read a key as its own syntax.
_PROPERTY_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
#: Property integers fit the 64 bits SQLite and Neo4j store.
_INT64 = (-(2**63), 2**63 - 1)
#: Text fields that may hold several lines.
MULTILINE_FIELDS = frozenset({"notes", "outcome", "withdrawal_terms", "who_pays"})


def check_text(name: str, value: str) -> None:
    """Raise ``ValueError`` when ``value`` holds a character the field ``name`` may not.

    >>> check_text("name", "St Mary's C of E")
    >>> check_text("name", "Evil\\x1b[2J")
    Traceback (most recent call last):
    ...
    ValueError: name holds a control or invisible character ('\\x1b') at position 4
    """
    pattern = _FORBIDDEN_TEXT if name in MULTILINE_FIELDS else _FORBIDDEN_LINE
    found = pattern.search(value)
    if found is not None:
        raise ValueError(
            f"{name} holds a control or invisible character ({found.group()!r}) at position {found.start()}"
        )


#: Validation context of JSON a store wrote from a validated model (``model_validate_json(text,
#: context=STORED)``): the character scans of its text and property keys, which it passed when
#: it was written, are not repeated (they were most of reading a school back).
STORED = {"stored": True}


def _stored(info: ValidationInfo) -> bool:
    context = info.context
    return isinstance(context, dict) and context.get("stored") is True


def _check_texts(model: BaseModel) -> None:
    for name, value in model.__dict__.items():
        if isinstance(value, str):
            check_text(name, value)


def check_properties(properties: dict[str, Scalar]) -> dict[str, Scalar]:
    """Property keys from a safe set, values JSON can carry and both stores can hold.

    >>> check_properties({"age_low": 4, "gender": "Mixed"})
    {'age_low': 4, 'gender': 'Mixed'}
    >>> check_properties({"a`b": 1})
    Traceback (most recent call last):
    ...
    ValueError: property key 'a`b' is not allowed: use letters, digits and '_' (at most 64, not starting with a digit)
    """
    for key, value in properties.items():
        if not _PROPERTY_KEY.fullmatch(key):
            raise ValueError(
                f"property key {key!r} is not allowed: use letters, digits and '_'"
                " (at most 64, not starting with a digit)"
            )
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]:
            raise ValueError(f"property {key!r}: {value} does not fit in 64 bits")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"property {key!r}: {value} is not a finite number")
        if isinstance(value, str):
            check_text(f"property {key!r}", value)
    return properties


OrgId = Annotated[
    str,
    BeforeValidator(_exact_id),
    Field(
        min_length=1,
        max_length=128,
        pattern=_ID_RE.pattern,
        description="Stable id: a URN for establishments, 'group-<Group UID>' for GIAS groups, "
        "'la-<code>' for local authorities, a slug for the rest.",
        examples=["103120", "group-2044", "la-330", "birmingham-education-partnership"],
    ),
]


def slugify(text: str) -> str:
    """Lower-case, hyphen-separated id from a name.

    >>> slugify("Birmingham Education Partnership (BEP)")
    'birmingham-education-partnership-bep'
    """
    return _SLUG_STRIP.sub("-", text.lower()).strip("-")[:120] or "unnamed"


def group_id(group_uid: int | str) -> str:
    """Node id of a GIAS group."""
    return f"group-{int(group_uid)}"


def la_id(la_code: int | str) -> str:
    """Node id of a local authority."""
    return f"la-{int(la_code)}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False, str_strip_whitespace=True)


class Inspection(_Strict):
    """One Ofsted inspection of a school, as Ofsted's files (or GIAS's Ofsted columns) give it."""

    date: Day = Field(description="First day of the inspection.")
    kind: InspectionKind = Field(description="Graded, ungraded, or report card.")
    published: Day | None = Field(default=None, description="Date the report was published.")
    number: str | None = Field(default=None, max_length=40, description="Ofsted's inspection number.")
    inspection_type: str | None = Field(default=None, max_length=200, description="Ofsted's inspection type.")
    overall: int | None = Field(
        default=None, ge=1, le=4, description="Overall effectiveness 1-4 (none when 'Not judged' or not graded)."
    )
    judgements: dict[GradedJudgement, int] = Field(
        default_factory=dict, description="Graded sub-judgements, 1 Outstanding ... 4 Inadequate (9: left out)."
    )
    areas: dict[ReportCardArea, ReportCardGrade] = Field(
        default_factory=dict, description="Report-card grades by evaluation area ('Not applicable': left out)."
    )
    safeguarding: bool | None = Field(
        default=None, description="Safeguarding effective (graded) or standards met (report card)."
    )
    category: ConcernCategory | None = Field(default=None, description="Category of concern, if any.")
    outcome: str | None = Field(default=None, max_length=200, description="An ungraded inspection's outcome, verbatim.")
    rating: OfstedRating | None = Field(
        default=None, description="The rating as the source stated it outright (GIAS's OfstedRating column)."
    )
    urn_at_inspection: int | None = Field(
        default=None,
        ge=1,
        le=MAX_URN,
        description="The URN inspected, when not the school's own: a predecessor's judgement it carries.",
    )
    laestab_at_inspection: int | None = Field(
        default=None, ge=1, le=9999999, description="The LAESTAB inspected, when the URN was not the school's own."
    )
    name_at_inspection: str | None = Field(
        default=None, max_length=300, description="The school's name when inspected, when the URN was not its own."
    )
    type_at_inspection: str | None = Field(
        default=None, max_length=200, description="The school's type when inspected, when the URN was not its own."
    )
    source: str | None = Field(default=None, max_length=300, description="File the inspection came from.")

    @field_validator("judgements")
    @classmethod
    def _grades(cls, value: dict[GradedJudgement, int]) -> dict[GradedJudgement, int]:
        bad = {key.value: grade for key, grade in value.items() if grade not in (1, 2, 3, 4)}
        if bad:
            raise ValueError(f"judgements are graded 1-4, not {bad}")
        return value

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> Inspection:
        if not _stored(info):
            _check_texts(self)  # no control or bidi characters, as in every other record
        return self


class OrganisationBase(_Strict):
    """Fields every organisation shares; most are optional beyond id, kind and name."""

    kind: NodeKind = Field(description="What the organisation is.")
    name: str = Field(min_length=1, max_length=300, description="Official or common name.")
    subtype: str | None = Field(
        default=None,
        description="Kind-specific category: school type, college type, trust type, "
        "partnership type or community partner type.",
    )
    status: Status = Field(default=Status.OPEN, description="Open, closed or proposed.")
    urn: int | None = Field(default=None, ge=1, le=MAX_URN, description="GIAS Unique Reference Number.")
    group_uid: int | None = Field(default=None, ge=1, le=MAX_GROUP_UID, description="GIAS Group UID.")
    ukprn: int | None = Field(default=None, ge=1, le=MAX_UKPRN, description="UK Provider Reference Number.")
    phase: Phase | None = Field(default=None, description="Phase of education.")
    type_name: str | None = Field(default=None, description="GIAS TypeOfEstablishment, verbatim.")
    la_code: int | None = Field(default=None, ge=0, le=MAX_LA_CODE, description="Local authority code (e.g. 330).")
    local_authority: str | None = Field(default=None, description="Local authority name.")
    district: str | None = Field(default=None, description="Administrative district.")
    constituency: str | None = Field(default=None, description="Parliamentary constituency.")
    postcode: str | None = Field(default=None, description="Postcode.")
    latitude: float | None = Field(default=None, ge=49, le=61, description="WGS84 latitude.")
    longitude: float | None = Field(default=None, ge=-9, le=3, description="WGS84 longitude.")
    pupils: int | None = Field(default=None, ge=0, le=MAX_HEADCOUNT, description="Number of pupils on roll.")
    capacity: int | None = Field(default=None, ge=0, le=MAX_HEADCOUNT, description="School capacity (places).")
    fsm_pct: float | None = Field(
        default=None, ge=0, le=100, description="Percentage of pupils eligible for free school meals."
    )
    urban_rural: str | None = Field(default=None, description="Urban/rural classification.")
    ofsted_rating: OfstedRating | None = Field(default=None, description="Last Ofsted rating.")
    ofsted_date: Day | None = Field(default=None, description="Date of the last Ofsted inspection.")
    inspections: list[Inspection] = Field(
        default_factory=list,
        description="Ofsted inspections, oldest first: the standing on a date is the one in force then.",
    )
    opened: Day | None = Field(default=None, description="Date opened.")
    closed: Day | None = Field(default=None, description="Date closed.")
    source: str | None = Field(default=None, description="Where the facts came from (file or person).")
    properties: dict[str, Scalar] = Field(
        default_factory=dict, description="Free extra properties (scalar values only)."
    )

    @field_validator("inspections")
    @classmethod
    def _oldest_first(cls, value: list[Inspection]) -> list[Inspection]:
        # Kept in date order so that the standing on a day is a bisection (analytics.standing).
        return sorted(value, key=lambda inspection: inspection.date)

    @field_validator("properties")
    @classmethod
    def _safe_properties(cls, value: dict[str, Scalar], info: ValidationInfo) -> dict[str, Scalar]:
        return value if _stored(info) else check_properties(value)

    @model_validator(mode="after")
    def _check_subtype(self, info: ValidationInfo) -> OrganisationBase:
        if not _stored(info):
            _check_texts(self)
        allowed = SUBTYPES[self.kind]
        if self.subtype is not None:
            if allowed is None:
                raise ValueError(f"kind {self.kind.value!r} takes no subtype")
            if self.subtype not in allowed._value2member_map_:  # a dict lookup: loads check ~50k of these
                valid = {m.value for m in allowed}
                raise ValueError(
                    f"subtype {self.subtype!r} is not valid for {self.kind.value!r}; expected one of {sorted(valid)}"
                )
        if self.opened and self.closed and self.closed < self.opened:
            raise ValueError("closed date is before opened date")
        return self


class OrganisationCreate(OrganisationBase):
    """An organisation to create or update (upsert on id)."""

    id: OrgId


class OrganisationPublic(OrganisationBase):
    """An organisation as the API returns it."""

    id: OrgId


Organisation = OrganisationPublic


class OrganisationList(_Strict):
    """A page of organisations."""

    items: list[OrganisationPublic] = Field(description="Organisations on this page.")
    total: int = Field(description="Number of organisations matching the filters.")
    offset: int = Field(description="Index of the first item of this page.")
    limit: int = Field(description="Page size requested.")


class ServiceLevelAgreement(_Strict):
    """Terms of a collaboration's service level agreement."""

    lead_partner: str | None = Field(default=None, description="Id of the partner that leads.")
    who_pays: str | None = Field(default=None, description="Who pays, in words.")
    withdrawal_terms: str | None = Field(default=None, description="How a partner may withdraw.")

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> ServiceLevelAgreement:
        if not _stored(info):
            _check_texts(self)
        return self


class TieBase(_Strict):
    """A typed, dated tie between two organisations."""

    source_id: OrgId
    target_id: OrgId
    kind: EdgeKind = Field(description="What the tie is.")
    level: GovernanceLevel | None = Field(
        default=None, description="Governance level on the federation continuum (federated_with)."
    )
    role: MemberRole | None = Field(default=None, description="Role in the group (member_of).")
    focus: str | None = Field(
        default=None,
        max_length=200,
        description="What the collaboration or support is about: one of "
        + ", ".join(CollaborationFocus)
        + ", or a word of your own (maths, attendance...); stored lower-case with _ for spaces.",
    )
    outcome: str | None = Field(default=None, max_length=1000, description="Outcome of support.")
    since: Day | None = Field(default=None, description="First day of the tie, if known.")
    until: Day | None = Field(default=None, description="Last day of the tie; empty while current.")
    source: str | None = Field(default=None, max_length=300, description="Where the fact came from.")
    notes: str | None = Field(default=None, max_length=2000, description="Free notes.")
    sla: ServiceLevelAgreement | None = Field(default=None, description="Service level agreement.")
    properties: dict[str, Scalar] = Field(
        default_factory=dict, description="Free extra properties (scalar values only)."
    )

    @field_validator("focus")
    @classmethod
    def _normalise_focus(cls, value: str | None) -> str | None:
        return value.strip().lower().replace(" ", "_") if value else value

    @field_validator("properties")
    @classmethod
    def _safe_properties(cls, value: dict[str, Scalar], info: ValidationInfo) -> dict[str, Scalar]:
        return value if _stored(info) else check_properties(value)

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> TieBase:
        if not _stored(info):
            _check_texts(self)
        if self.source_id == self.target_id:
            raise ValueError("a tie cannot join an organisation to itself")
        if self.since and self.until and self.until < self.since:
            raise ValueError("until is before since")
        if self.level is not None and self.kind is not EdgeKind.FEDERATED_WITH:
            raise ValueError("level is only for federated_with ties")
        if self.kind is EdgeKind.FEDERATED_WITH and self.level is None:
            raise ValueError("federated_with needs a governance level")
        if self.role is not None and self.kind is not EdgeKind.MEMBER_OF:
            raise ValueError("role is only for member_of ties")
        return self

    @property
    def tie_id(self) -> str:
        """Stable id: kind, ends and (for collaboration) focus; dates never change it."""
        return tie_key(self.kind, self.source_id, self.target_id, self.focus, self.since)

    def is_current(self, as_at: date | None = None) -> bool:
        """Whether the tie holds on ``as_at`` (today when omitted)."""
        return covers(self.since, self.until, as_at or date.today())


def tie_key(kind: EdgeKind, source_id: str, target_id: str, focus: str | None = None, since: date | None = None) -> str:
    """The id of a tie.

    Symmetric kinds sort their ends so that A-B and B-A are one tie. Membership
    history is kept as separate ties when a member leaves and rejoins, so a
    membership id includes its start date when one is known.

    >>> tie_key(EdgeKind.FEDERATED_WITH, "200", "100")
    'federated_with:100:200'
    >>> tie_key(EdgeKind.COLLABORATES_ON, "1", "2", focus="cpd")
    'collaborates_on:1:2:cpd'

    Each part is escaped (``~`` as ``~7E``, ``:`` as ``~3A``, ``/`` as ``~2F``, ``%`` as ``~25``), so
    no id or focus can forge another tie's id, and an id never holds ``/`` or ``%``: it is one URL
    path segment, read the same however many times a client or proxy decodes it:

    >>> tie_key(EdgeKind.MEMBER_OF, "103298", "group-1:2022-09-01")
    'member_of:103298:group-1~3A2022-09-01'
    >>> tie_key(EdgeKind.SUPPORTS, "1", "2", focus="ks2/ks3")
    'supports:1:2:ks2~2Fks3'
    """
    if kind is EdgeKind.FEDERATED_WITH:
        source_id, target_id = sorted((source_id, target_id))
    parts = [kind.value, source_id, target_id]
    if kind in (EdgeKind.COLLABORATES_ON, EdgeKind.SUPPORTS) and focus:
        parts.append(focus)
    if kind is EdgeKind.MEMBER_OF and since is not None:
        parts.append(since.isoformat())
    return ":".join(_id_part(part) for part in parts)


def _id_part(part: str) -> str:
    # GIAS ids hold none of these, so their tie ids read as before the escaping came in.
    if "~" in part or ":" in part or "/" in part or "%" in part:
        return part.replace("~", "~7E").replace(":", "~3A").replace("/", "~2F").replace("%", "~25")
    return part


def covers(since: date | None, until: date | None, day: date) -> bool:
    """Whether the interval [since, until] contains ``day`` (open ends are unbounded).

    >>> covers(date(2020, 1, 1), None, date(2024, 5, 1))
    True
    >>> covers(None, date(2020, 1, 1), date(2024, 5, 1))
    False
    """
    return (since is None or since <= day) and (until is None or day <= until)


class TieCreate(TieBase):
    """A tie to create or update (upsert on its stable id)."""


class TiePublic(TieBase):
    """A tie as the API returns it."""

    id: str = Field(description="Stable tie id.")


Tie = TiePublic


def make_tie(**fields: Any) -> TiePublic:
    """Build a tie and give it its stable id."""
    base = TieCreate(**fields)
    return TiePublic(id=base.tie_id, **base.model_dump())


class TieList(_Strict):
    """Ties of one organisation, or a page of ties."""

    items: list[TiePublic] = Field(description="Ties.")
    total: int = Field(description="Number of ties.")


def check_endpoints(tie: TieBase, source_kind: NodeKind, target_kind: NodeKind) -> str | None:
    """Return why a tie may not join these kinds, or ``None`` when it may.

    >>> check_endpoints(make_tie(source_id="1", target_id="la-330", kind="maintained_by"),
    ...                 NodeKind.SCHOOL, NodeKind.LOCAL_AUTHORITY) is None
    True
    """
    sources, targets = ENDPOINTS[tie.kind]
    if source_kind not in sources:
        return f"{tie.kind.value} cannot start at a {source_kind.value}"
    if target_kind not in targets:
        return f"{tie.kind.value} cannot end at a {target_kind.value}"
    return None


class AuditEntry(_Strict):
    """One write through the API: who, when, what changed."""

    at: str = Field(description="When (UTC, ISO 8601).")
    actor: str = Field(description="Name of the API key that made the change.")
    action: str = Field(description="What was done, e.g. upsert_tie, end_tie, delete_organisation, load_gias.")
    target: str = Field(description="Id of the organisation or tie changed, or the file loaded.")
    before: str | None = Field(default=None, description="JSON of the record before the change.")
    after: str | None = Field(default=None, description="JSON of the record after the change.")


class AuditList(_Strict):
    """A page of the audit trail, newest first."""

    items: list[AuditEntry] = Field(description="Audit entries.")
    total: int = Field(description="Number of entries in the trail.")
