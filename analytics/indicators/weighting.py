"""Weights of every node among its siblings: given, equal, AHP or PCA.

A weight only matters relative to its siblings (the aggregation renormalises), so each
method returns raw weights for every code of the framework; :func:`normalised_weights` rescales
them per group to sum to 1 for display.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.errors import InvalidData, InvalidPipeline
from analytics.indicators import ahp
from analytics.indicators.framework import Framework


def given(framework: Framework) -> dict[str, float]:
    """The weights written in the framework (COINr: iMeta's Weight column)."""
    return {n.code: float(n.weight) for n, _ in framework.nodes()}


def equal(framework: Framework) -> dict[str, float]:
    return {n.code: 1.0 for n, _ in framework.nodes()}


def _children(framework: Framework, group: str, names: tuple[str, ...], what: str) -> list[str]:
    kids = [c.code for c in framework.node(group).children]
    if not kids:
        raise InvalidPipeline(f"weight: {group} is an indicator, not a group")
    if sorted(names) != sorted(kids):
        raise InvalidPipeline(
            f"weight: the AHP {what} for {group} compares {', '.join(names)}; "
            f"the group's children are {', '.join(kids)}"
        )
    return kids


def from_ahp(
    framework: Framework,
    matrices: Mapping[str, Path],
    *,
    surveys: Mapping[str, Path] | None = None,
    method: str = "eigen",
    base: Mapping[str, float] | None = None,
    max_cr: float | None = 0.1,
    aggregate: str = "aij",
    drop_inconsistent: bool = True,
) -> dict[str, float]:
    """Children's weights of each named group by AHP; the other groups keep ``base``.

    A group takes one pairwise matrix (``matrices``) or a stakeholder survey (``surveys``, in
    ahpsurvey's coding) whose judgments are combined by AIJ or AIP, leaving out experts whose
    CR is above ``max_cr`` when ``drop_inconsistent``. The comparisons must cover exactly the
    group's children. A matrix (or AIJ group matrix) whose CR is above ``max_cr`` is refused,
    because its weights would not mean what the experts meant.
    """
    out = dict(base if base is not None else given(framework))
    limit = 0.1 if max_cr is None else max_cr
    for group, path in matrices.items():
        matrix = ahp.read_matrix(Path(path))
        kids = _children(framework, group, matrix.names, "matrix")
        result = ahp.analyse(matrix, method=method, threshold=limit)
        if max_cr is not None and result.cr > max_cr:
            raise InvalidData(
                f"weight: the AHP matrix for {group} is inconsistent "
                f"(CR {result.cr:.3f} > {max_cr})"
            )
        out.update({k: float(result.weights[k]) for k in kids})
    for group, path in (surveys or {}).items():
        answers = ahp.read_survey(Path(path))
        kids = _children(framework, group, answers[0].names, "survey")
        found = ahp.group(
            answers,
            aggregate=aggregate,
            method=method,
            drop_inconsistent=drop_inconsistent,
            threshold=limit,
        )
        if max_cr is not None and found.cr is not None and found.cr > max_cr:
            raise InvalidData(
                f"weight: the group judgment for {group} is inconsistent "
                f"(CR {found.cr:.3f} > {max_cr})"
            )
        out.update({k: float(found.weights[k]) for k in kids})
    return out


def from_pca(
    framework: Framework, normalised: pd.DataFrame, base: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Indicator weights within each group from the first principal component of the group.

    Each indicator's weight is its squared loading on the first component of the group's
    correlation matrix (complete units only) — the share of that component it carries, as in
    the OECD/JRC handbook. Groups of aggregates keep ``base`` weights.
    """
    out = dict(base if base is not None else given(framework))
    for g, _ in framework.nodes():
        kids = [c.code for c in g.children]
        if len(kids) < 2 or any(c.children for c in g.children):
            continue
        x = normalised[kids].dropna()
        if len(x) <= len(kids):
            raise InvalidData(
                f"weight: PCA of {g.code} needs more complete units ({len(x)}) than "
                f"indicators ({len(kids)})"
            )
        corr = np.corrcoef(x.to_numpy(dtype=float), rowvar=False)
        if not np.all(np.isfinite(corr)):
            raise InvalidData(f"weight: PCA of {g.code}: an indicator has no variance")
        _, vecs = np.linalg.eigh(corr)
        load = vecs[:, -1] ** 2
        out.update({k: float(v) for k, v in zip(kids, load / load.sum(), strict=True)})
    return out


def normalised_weights(framework: Framework, weights: Mapping[str, float]) -> dict[str, float]:
    """Each node's weight as a share of its siblings' total."""
    out: dict[str, float] = {framework.index_code: 1.0}
    for n, _ in framework.nodes():
        if n.children:
            total = sum(weights.get(c.code, 1.0) for c in n.children)
            for c in n.children:
                out[c.code] = weights.get(c.code, 1.0) / total if total else float("nan")
    return out
