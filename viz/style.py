"""How organisations and ties look: colours, shapes, sizes and line styles.

Every mapping is keyed by the project's enums, so a new kind fails loudly in the
tests instead of being drawn in a default colour nobody chose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from graph_service.models import EdgeKind, GovernanceLevel, NodeKind, OfstedRating

KIND_COLOURS: dict[NodeKind, str] = {
    NodeKind.SCHOOL: "#4e79a7",
    NodeKind.FE_COLLEGE: "#59a14f",
    NodeKind.TRUST: "#f28e2b",
    NodeKind.FEDERATION: "#e15759",
    NodeKind.TEACHING_SCHOOL_HUB: "#b07aa1",
    NodeKind.TEACHING_SCHOOL_ALLIANCE: "#d4a6c8",
    NodeKind.LOCAL_AUTHORITY: "#9c755f",
    NodeKind.PARTNERSHIP: "#edc948",
    NodeKind.SPONSOR: "#ff9da7",
    NodeKind.COMMUNITY_PARTNER: "#76b7b2",
}

#: vis-network shapes whose size follows ``size``; the kind stays readable when colouring by rating.
KIND_SHAPES: dict[NodeKind, str] = {
    NodeKind.SCHOOL: "dot",
    NodeKind.FE_COLLEGE: "diamond",
    NodeKind.TRUST: "square",
    NodeKind.FEDERATION: "triangle",
    NodeKind.TEACHING_SCHOOL_HUB: "hexagon",
    NodeKind.TEACHING_SCHOOL_ALLIANCE: "hexagon",
    NodeKind.LOCAL_AUTHORITY: "star",
    NodeKind.PARTNERSHIP: "triangleDown",
    NodeKind.SPONSOR: "square",
    NodeKind.COMMUNITY_PARTNER: "dot",
}

#: The legend draws shapes as text symbols.
SHAPE_SYMBOLS = {
    "dot": "\u25cf",
    "diamond": "\u25c6",
    "square": "\u25a0",
    "triangle": "\u25b2",
    "hexagon": "\u2b22",
    "star": "\u2605",
    "triangleDown": "\u25bc",
}

RATING_COLOURS: dict[OfstedRating, str] = {
    OfstedRating.OUTSTANDING: "#1a9641",
    OfstedRating.GOOD: "#a6d96a",
    OfstedRating.REQUIRES_IMPROVEMENT: "#fdae61",
    OfstedRating.SERIOUS_WEAKNESSES: "#e34a33",
    OfstedRating.INADEQUATE: "#d7191c",
    OfstedRating.SPECIAL_MEASURES: "#7f0000",
    OfstedRating.INSUFFICIENT_EVIDENCE: "#bababa",
}
NO_RATING_COLOUR = "#e6e6e6"
_RATING_BY_VALUE = {rating.value: colour for rating, colour in RATING_COLOURS.items()}
HIGHLIGHT_BORDER = "#000000"

MIN_SIZE = 8.0
MAX_SIZE = 40.0
#: Highlighted nodes (isolated schools have no ties, so would be the smallest) stay visible.
HIGHLIGHT_MIN_SIZE = 12.0


@dataclass(frozen=True)
class LineStyle:
    """How one kind of tie is drawn."""

    colour: str
    width: float
    dashes: tuple[int, ...] = ()
    arrow: bool = False
    label: str = ""

    def vis(self) -> dict[str, Any]:
        """The vis-network edge options for this style."""
        options: dict[str, Any] = {"color": self.colour, "width": self.width}
        if self.dashes:
            options["dashes"] = list(self.dashes)
        if self.arrow:
            options["arrows"] = "to"
        return options


EDGE_STYLES: dict[EdgeKind, LineStyle] = {
    EdgeKind.MEMBER_OF: LineStyle("#5b7fa6", 1.5, label="member of a trust, hub or group"),
    EdgeKind.FEDERATED_WITH: LineStyle("#c0392b", 3.0, label="federated with (width, dashes: level)"),
    EdgeKind.SUPPORTS: LineStyle("#e67e22", 3.0, arrow=True, label="supports"),
    EdgeKind.COLLABORATES_ON: LineStyle("#16a085", 2.0, (10, 5), label="collaborates on"),
    EdgeKind.MAINTAINED_BY: LineStyle("#c8c8c8", 0.5, (2, 4), label="maintained by the local authority"),
    EdgeKind.SPONSORED_BY: LineStyle("#8e44ad", 1.5, label="sponsored by"),
    EdgeKind.PREDECESSOR_OF: LineStyle("#999999", 1.0, (5, 5), arrow=True, label="predecessor of"),
}

#: The federation continuum: the stronger the governance, the thicker and more solid the line.
LEVEL_STYLES: dict[GovernanceLevel, tuple[float, tuple[int, ...]]] = {
    GovernanceLevel.HARD_GOVERNANCE: (5.0, ()),
    GovernanceLevel.SOFT_GOVERNANCE: (3.5, ()),
    GovernanceLevel.SOFT: (2.5, (8, 4)),
    GovernanceLevel.LOOSE_COLLABORATION: (1.5, (3, 4)),
}

NEAREST_STYLE = LineStyle("#000000", 1.0, (1, 5), label="nearest possible partner (not a tie)")


def edge_style(kind: EdgeKind, level: GovernanceLevel | None = None) -> LineStyle:
    """The line for a tie; federation ties (and memberships of a federation) follow their level.

    >>> edge_style(EdgeKind.FEDERATED_WITH, GovernanceLevel.SOFT).dashes
    (8, 4)
    >>> edge_style(EdgeKind.MEMBER_OF, GovernanceLevel.HARD_GOVERNANCE).width
    5.0
    >>> edge_style(EdgeKind.SUPPORTS).arrow
    True
    """
    base = EDGE_STYLES[kind]
    if level is None or kind not in (EdgeKind.FEDERATED_WITH, EdgeKind.MEMBER_OF):
        return base
    width, dashes = LEVEL_STYLES[level]
    return LineStyle(base.colour, width, dashes, base.arrow, base.label)


def node_size(degree: int) -> float:
    """Node size from its number of collaboration ties: area grows with degree, capped.

    >>> node_size(0), node_size(4), node_size(10_000)
    (8.0, 16.0, 40.0)
    """
    return min(MAX_SIZE, MIN_SIZE + 4.0 * math.sqrt(degree))


def rating_colour(rating: str | None) -> str:
    """Fill colour for an Ofsted rating value (``None`` or unknown: light grey).

    >>> rating_colour("special_measures"), rating_colour(None)
    ('#7f0000', '#e6e6e6')
    """
    return _RATING_BY_VALUE.get(rating or "", NO_RATING_COLOUR)


def legend() -> dict[str, list[dict[str, Any]]]:
    """Legend entries for the page: kinds (colour and shape), ratings, and tie lines."""
    return {
        "kind": [
            {"label": _words(kind), "colour": KIND_COLOURS[kind], "symbol": SHAPE_SYMBOLS[KIND_SHAPES[kind]]}
            for kind in NodeKind
        ],
        "rating": [
            *(
                {"label": _words(rating), "colour": colour, "symbol": SHAPE_SYMBOLS["dot"]}
                for rating, colour in RATING_COLOURS.items()
            ),
            {"label": "no rating / not a school", "colour": NO_RATING_COLOUR, "symbol": SHAPE_SYMBOLS["dot"]},
        ],
        "edges": [
            *(
                {"label": style.label, "colour": style.colour, "width": style.width, "dash": _dasharray(style)}
                for style in EDGE_STYLES.values()
            ),
            *(
                {
                    "label": f"federation: {_words(level)}",
                    "colour": EDGE_STYLES[EdgeKind.FEDERATED_WITH].colour,
                    "width": width,
                    "dash": " ".join(map(str, dashes)),
                }
                for level, (width, dashes) in LEVEL_STYLES.items()
            ),
            {
                "label": NEAREST_STYLE.label,
                "colour": NEAREST_STYLE.colour,
                "width": NEAREST_STYLE.width,
                "dash": _dasharray(NEAREST_STYLE),
            },
        ],
    }


def _dasharray(style: LineStyle) -> str:
    return " ".join(map(str, style.dashes))


def _words(value: str) -> str:
    return value.replace("_", " ")
