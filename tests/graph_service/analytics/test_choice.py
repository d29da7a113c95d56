"""The conditional logit against statsmodels' own ConditionalLogit, and the fit of the support weights."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from graph_service.analytics.backtest import Case, Choice, choice_ranks
from graph_service.analytics.choice import conditional_logit
from graph_service.analytics.support import PARTS


def simulated(cases: int = 300, seed: int = 7) -> tuple[list[np.ndarray], list[int], np.ndarray]:
    """Cases of 2 to 9 alternatives with three features, each choice drawn from a known logit."""
    rng = np.random.default_rng(seed)
    truth = np.array([1.5, -0.8, 0.4])
    alternatives, chosen = [], []
    for _case in range(cases):
        x = rng.normal(size=(int(rng.integers(2, 10)), 3))
        p = np.exp(x @ truth)
        alternatives.append(x)
        chosen.append(int(rng.choice(len(x), p=p / p.sum())))
    return alternatives, chosen, truth


def test_equals_statsmodels_conditional_logit() -> None:
    from statsmodels.discrete.conditional_models import ConditionalLogit

    alternatives, chosen, truth = simulated()
    ours = conditional_logit(alternatives, chosen, ridge=0.0)
    endog = np.concatenate([np.eye(len(x))[c] for x, c in zip(alternatives, chosen, strict=True)])
    groups = np.concatenate([np.full(len(x), case) for case, x in enumerate(alternatives)])
    model = ConditionalLogit(endog, np.vstack(alternatives), groups=groups)
    theirs = model.fit(disp=False, gtol=1e-10, maxiter=500)
    # The same maximum (Newton gets a hair closer than their quasi-Newton: judged by their own likelihood).
    assert ours.coefficients == pytest.approx(theirs.params, abs=1e-3)
    assert ours.standard_errors == pytest.approx(theirs.bse, rel=1e-3)
    assert model.loglike(ours.coefficients) >= theirs.llf - 1e-9
    assert ours.log_likelihood == pytest.approx(model.loglike(ours.coefficients), abs=1e-9)
    # And it finds the truth it was drawn from, within about two standard errors.
    assert np.all(np.abs(ours.coefficients - truth) < 3 * ours.standard_errors)
    assert 0 < ours.pseudo_r2 < 1


def test_cases_without_a_choice_tell_nothing() -> None:
    alternatives, chosen, _truth = simulated(cases=50)
    with_silent = alternatives + [np.zeros((4, 3)), np.ones((1, 3))]
    fit = conditional_logit(with_silent, chosen + [-1, 0], ridge=0.0)
    assert fit.cases == 50
    assert fit.coefficients == pytest.approx(conditional_logit(alternatives, chosen, ridge=0.0).coefficients)
    with pytest.raises(ValueError, match="no case has a chosen alternative"):
        conditional_logit([np.zeros((3, 2))], [-1])


def test_ranks_count_ties_against_the_chosen() -> None:
    def ranked(first_part: list[float], chosen: int, weight: float) -> list[int | None]:
        parts = np.zeros((len(first_part), len(PARTS)))
        parts[:, 0] = first_part
        lines = len(first_part)
        case = Case("1", "2", "t", date(2020, 9, 1))
        coefficients = np.zeros(len(PARTS))
        coefficients[0] = weight
        choice = Choice(case, "primary", parts, chosen, np.zeros(lines, bool), np.zeros(lines, bool))
        return choice_ranks([choice], coefficients)

    assert ranked([1.0, 1.0, 0.0], 0, 1.0) == [2]
    assert ranked([3.0, 1.0], 0, -1.0) == [2]
    assert ranked([1.0], -1, 1.0) == [None]
