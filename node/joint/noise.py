"""Distributed discrete Laplace noise: each owner draws a share, nobody knows the sum.

The discrete Laplace distribution DLap(α) (P(k) ∝ α^|k| on the integers) with
α = exp(-ε/Δ) makes a sum of integer sensitivity Δ ε-differentially private (pure ε, δ = 0).
It is the difference of two geometric variables, and a geometric variable Geo(1 - α) is the
sum of m independent Pólya (negative binomial) variables NB(1/m, 1 - α). So owner i draws
``NB(1/m, 1-α) - NB(1/m, 1-α)`` for every output cell; the m shares add up to exactly one
DLap(α), and a party that knows its own share still faces the other m - 1 (Goryczka & Xiong;
Balle et al., "Private summation in the multi-message shuffle model", §4).
"""

from __future__ import annotations

import math
import secrets
from fractions import Fraction

import numpy as np


def alpha(scale: Fraction) -> float:
    """α = exp(-1/b) for scale b in output units; rounded up, i.e. towards more noise."""
    if scale <= 0:
        raise ValueError("the noise scale must be positive")
    return math.nextafter(math.exp(-1 / float(scale)), 1.0)


def share(
    scale: Fraction, parties: int, size: int, rng: np.random.Generator | None = None
) -> np.ndarray:
    """One owner's share of DLap(exp(-1/scale)) noise for ``size`` cells, as int64."""
    if parties < 1:
        raise ValueError("at least one party adds noise")
    rng = rng or np.random.default_rng(secrets.randbits(256))
    p = 1.0 - alpha(scale)
    n = 1.0 / parties
    return rng.negative_binomial(n, p, size).astype(np.int64) - rng.negative_binomial(
        n, p, size
    ).astype(np.int64)


def bound(scale: Fraction, cells: int, failure: float = 1e-6) -> int:
    """t such that every one of ``cells`` DLap cells lies within ±t except with probability
    ``failure`` (P(|X| > t) = 2α^(t+1)/(1+α), union over the cells)."""
    a = alpha(scale)
    per_cell = failure / cells
    t = math.log(per_cell * (1 + a) / 2) / math.log(a) - 1
    return max(0, math.ceil(t))


def variance(scale: Fraction) -> float:
    a = alpha(scale)
    return 2 * a / (1 - a) ** 2
