"""All of England: the panel on the January 2024 census day gives DfE's published academy shares (slow)."""

from __future__ import annotations

from datetime import date

import pytest

from graph_service import area_questions
from graph_service.analytics.panel import academy_shares
from graph_service.store import EmbeddedStore
from tests.graph_service.export import test_england

pytestmark = pytest.mark.slow
#: "Schools, pupils and their characteristics 2023/24" (DfE, June 2024): academies and free schools
#: as a share of state-funded schools, by phase, in January 2024.
PUBLISHED = {"primary": 0.427, "secondary": 0.819, "special": 0.468}
# GIAS England (July 2025) and its links in an embedded store, as the export tests load it.
england = test_england.england


def test_academy_shares_match_dfe_in_january_2024(england: EmbeddedStore) -> None:
    shares = academy_shares(area_questions.panel(england, [date(2024, 1, 18)]))
    for phase, published in PUBLISHED.items():
        assert abs(shares[phase]["share"] - published) <= 0.01, (phase, shares[phase], published)
    assert set(shares) == set(PUBLISHED)


def test_every_local_authority_over_fifteen_years(england: EmbeddedStore) -> None:
    series = area_questions.area_trends(england, date(2010, 8, 31), date(2025, 8, 31))
    assert len(series.days) == 16
    assert 150 <= len(series.areas) <= 160
    birmingham = next(trend for trend in series.areas if trend.area == "330")
    shares = birmingham.values["in_trust_share"]
    assert shares[0] < 0.1 < 0.5 < shares[-1]  # academisation, as the school-by-school data says
    last_year = sum(trend.values["schools"][-1] or 0 for trend in series.areas)
    table = area_questions.area_table(england, date(2025, 8, 31))
    assert last_year == sum(row.schools for row in table.rows) < 25_000
