"""The industrial park green low-carbon index: ten dimensions, goalposts, AHP, expert review.

Modules: :mod:`~analytics.park.framework` (the hierarchy, AHP dimension weights, the national
zero-carbon park thresholds), :mod:`~analytics.park.scoring` (indicator, dimension and total
scores; the zero-carbon check), :mod:`~analytics.park.review` (self-evaluation → expert
re-assessment → final scores → selection), :mod:`~analytics.park.readers` (CSV inputs),
:mod:`~analytics.park.demo_data` (SYNTHETIC demo parks and reviews) and
:mod:`~analytics.park.evaluation` (:func:`evaluate`, the whole workflow in one call).
"""

from __future__ import annotations

from analytics.park.demo_data import demo_parks, demo_reviews
from analytics.park.evaluation import ParkEvaluation, evaluate
from analytics.park.readers import read_parks, read_reviews

__all__ = ["ParkEvaluation", "demo_parks", "demo_reviews", "evaluate", "read_parks", "read_reviews"]
