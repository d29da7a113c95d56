"""McFadden's conditional logit: weights fitted on real choices, one alternative chosen per case.

Each case (a real take-over) offers alternatives (the support question's lines), each described
by the same parts; one of them was chosen (the real trust's line). The conditional logit gives
alternative ``j`` of a case the probability ``exp(x_j . b) / sum_k exp(x_k . b)`` and finds the
coefficients ``b`` of greatest likelihood (McFadden 1974, "Conditional logit analysis of
qualitative choice behavior"); it is the model statsmodels fits as ``ConditionalLogit``, made
here with numpy alone (Newton's method on the exact gradient and Hessian, a few iterations).
Ranking lines by ``x . b`` is ranking them by the most likely choice, so the fitted coefficients
are the score's weights, each part's points still shown one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ChoiceFit:
    """A fitted conditional logit: coefficients, their standard errors and the fit's likelihood."""

    coefficients: np.ndarray
    standard_errors: np.ndarray
    log_likelihood: float
    #: Log-likelihood of choosing uniformly at random among each case's alternatives.
    null_log_likelihood: float
    cases: int
    iterations: int

    @property
    def pseudo_r2(self) -> float:
        """McFadden's pseudo R-squared: 1 - LL(fit) / LL(uniform choice)."""
        return 1.0 - self.log_likelihood / self.null_log_likelihood if self.null_log_likelihood else 0.0


def _stack(alternatives: Sequence[np.ndarray], chosen: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    kept = [(x, c) for x, c in zip(alternatives, chosen, strict=True) if 0 <= c < len(x) and len(x) > 1]
    if not kept:
        raise ValueError("no case has a chosen alternative among two or more")
    stacked = np.vstack([x for x, _c in kept])
    starts = np.cumsum([0] + [len(x) for x, _c in kept[:-1]])
    picked = starts + np.array([c for _x, c in kept])
    return stacked, starts, picked


def conditional_logit(
    alternatives: Sequence[np.ndarray],
    chosen: Sequence[int],
    *,
    ridge: float = 1e-6,
    max_iterations: int = 50,
    tolerance: float = 1e-10,
) -> ChoiceFit:
    """Fit a conditional logit by Newton's method.

    Parameters
    ----------
    alternatives : sequence of arrays
        One ``(n_alternatives, n_features)`` array per case.
    chosen : sequence of int
        The row of the chosen alternative in each case's array; a case whose choice is not among
        its alternatives (``-1``), or with a single alternative, tells nothing and is left out.
    ridge : float
        A small penalty on the coefficients' squares, so that a part constant within every case
        (which the model cannot identify) stays at 0 rather than making the Hessian singular.

    Returns
    -------
    ChoiceFit
        Coefficients and standard errors (from the inverse of the observed information).

    Examples
    --------
    Two cases, each choosing the nearer of two alternatives described by one feature, nearness:

    >>> fit = conditional_logit([np.array([[1.0], [0.0]]), np.array([[0.2], [0.9]])], [0, 0])
    >>> round(float(fit.coefficients[0]), 2), fit.cases
    (0.41, 2)
    """
    stacked, starts, picked = _stack(alternatives, chosen)
    cases, width = len(starts), stacked.shape[1]
    sizes = np.diff(np.append(starts, len(stacked)))
    owner = np.repeat(np.arange(cases), sizes)

    def log_likelihood_of(beta: np.ndarray) -> tuple[float, np.ndarray]:
        utility = stacked @ beta
        top = np.maximum.reduceat(utility, starts)
        weight = np.exp(utility - top[owner])
        total = np.add.reduceat(weight, starts)
        value = float((utility[picked] - top - np.log(total)).sum() - ridge * beta @ beta)
        return value, weight / total[owner]

    beta = np.zeros(width)
    value, weight = log_likelihood_of(beta)
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        mean = np.add.reduceat(stacked * weight[:, None], starts)
        gradient = stacked[picked].sum(axis=0) - mean.sum(axis=0) - 2 * ridge * beta
        information = (stacked * weight[:, None]).T @ stacked - mean.T @ mean + 2 * ridge * np.eye(width)
        step = np.linalg.solve(information, gradient)
        # The likelihood is concave, but a full Newton step can overshoot far from the optimum: halve it until it gains.
        for _halving in range(30):
            trial, trial_weight = log_likelihood_of(beta + step)
            if trial >= value - 1e-12:
                break
            step = step / 2
        beta, value, weight = beta + step, trial, trial_weight
        if np.abs(step).max() < tolerance:
            break
    log_likelihood = value + ridge * float(beta @ beta)
    covariance = np.linalg.pinv(information)
    return ChoiceFit(
        coefficients=beta,
        standard_errors=np.sqrt(np.clip(np.diag(covariance), 0.0, None)),
        log_likelihood=log_likelihood,
        null_log_likelihood=float(-np.log(sizes).sum()),
        cases=cases,
        iterations=iterations,
    )
