"""A school's Ofsted standing on a date: the one place the questions read inspection outcomes from.

Every question (who is in difficulty, who can support, the isolated list's order) asks
:func:`rating_on` for an organisation's node attributes and a day, never ``ofsted_rating``
directly, so that inspection history (see the inspection loader) decides what held on that day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any


def rating_on(attrs: Mapping[str, Any], day: date | None = None) -> str | None:
    """The standing (an ``OfstedRating`` value) of an organisation on ``day`` (today when omitted).

    Examples
    --------
    >>> rating_on({"ofsted_rating": "good"}), rating_on({})
    ('good', None)
    """
    return attrs.get("ofsted_rating")
