"""Exact TreeSHAP values of an XGBoost model for many rows, computed once per decision pattern.

XGBoost's path-dependent TreeSHAP gives a row, in one tree, values that depend on the row only
through the direction it takes at each of the tree's splits (the "one fractions" of the
algorithm are those directions; the "zero fractions" are the training covers). A tree with k
splits has at most 2^k such patterns: 128 for the depth-3 trees of the default config, against a
million customers. So each tree's values are asked of XGBoost itself, for one representative row
per pattern that occurs, and every row gathers its pattern's values: the same numbers as
`Booster.predict(pred_contribs=True)` (up to float32 summation order), about ten times faster.

Models it cannot take (a tree with more than `MAX_SPLITS` splits, categorical splits, several
outputs) fall back to XGBoost's own TreeSHAP: `supports` says which.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import xgboost as xgb

__all__ = ["MAX_SPLITS", "supports", "contributions"]

# 2^12 patterns per tree at most: the tables stay small and the gathers cache-friendly.
MAX_SPLITS = 12


@dataclass(frozen=True)
class _Tree:
    index: int
    features: np.ndarray  # split feature of each split node, in bit order
    thresholds: np.ndarray  # float32: XGBoost goes left when x < threshold
    default_left: np.ndarray  # bool: where a missing value goes


def _trees(booster: xgb.Booster) -> list[_Tree] | None:
    model = json.loads(booster.save_raw("json"))["learner"]
    if int(model["learner_model_param"].get("num_target", "1")) > 1:
        return None
    if int(model["learner_model_param"].get("num_class", "0")) > 1:
        return None
    booster_model = model["gradient_booster"]
    if booster_model.get("name") != "gbtree":
        return None
    trees = []
    for index, tree in enumerate(booster_model["model"]["trees"]):
        left = np.asarray(tree["left_children"])
        splits = np.flatnonzero(left != -1)
        if len(splits) > MAX_SPLITS or any(np.asarray(tree["split_type"])[splits] != 0):
            return None
        trees.append(
            _Tree(
                index,
                np.asarray(tree["split_indices"])[splits].astype(np.int64),
                np.asarray(tree["split_conditions"], dtype=np.float32)[splits],
                np.asarray(tree["default_left"])[splits].astype(bool),
            )
        )
    return trees


def supports(booster: xgb.Booster) -> bool:
    return _trees(booster) is not None


def _patterns(columns: np.ndarray, tree: _Tree) -> np.ndarray:
    """Each row's directions at the tree's splits, one bit per split (1: left)."""
    pattern = np.zeros(columns.shape[1], dtype=np.uint16)
    for bit, (feature, threshold, default_left) in enumerate(
        zip(tree.features, tree.thresholds, tree.default_left, strict=True)
    ):
        column = columns[feature]
        # NaN compares false both ways: `not (x >= t)` sends it left, `x < t` right.
        left = ~(column >= threshold) if default_left else column < threshold
        pattern |= left.astype(np.uint16) << np.uint16(bit)
    return pattern


def _accumulate(booster: xgb.Booster, x: np.ndarray, columns: np.ndarray, trees: list[_Tree]) -> np.ndarray:
    """Sum over `trees` of each row's per-feature values, feature-major (n_features, n_rows)."""
    n_features, n = columns.shape
    total = np.zeros((n_features, n), dtype=np.float64)
    rows = np.arange(n)
    for tree in trees:
        if len(tree.features) == 0:
            continue  # a single leaf: it moves the expected value only
        pattern = _patterns(columns, tree)
        first = np.full(1 << len(tree.features), -1, dtype=np.int64)
        first[pattern[::-1]] = rows[::-1]  # each pattern's first row (the last write wins)
        seen = np.flatnonzero(first >= 0)
        # XGBoost's contributions take no iteration range: a one-tree slice of the model instead.
        values = booster[tree.index : tree.index + 1].predict(xgb.DMatrix(x[first[seen]]), pred_contribs=True)
        table = np.zeros((1 << len(tree.features), values.shape[1]), dtype=np.float64)
        table[seen] = values
        for feature in np.unique(tree.features):
            total[feature] += table[:, feature][pattern]
    return total


def contributions(
    booster: xgb.Booster, x: np.ndarray, base_margin: np.ndarray | None = None, threads: int = 2
) -> np.ndarray:
    """(n_rows, n_features + 1) exact TreeSHAP values, the last column the expected value (with
    the row's base margin, as XGBoost reports it): what `booster.predict(DMatrix(x, base_margin),
    pred_contribs=True)` returns. Requires `supports(booster)`."""
    trees = _trees(booster)
    if trees is None:
        raise ValueError("treeshap: the model has a tree this shortcut cannot take (see supports())")
    x = np.asarray(x, dtype=np.float32)
    columns = np.ascontiguousarray(x.T)
    # Trees dealt round-robin to the threads (numpy and XGBoost release the GIL), one sum each.
    shares = [trees[i::threads] for i in range(threads)]
    with ThreadPoolExecutor(threads) as pool:
        parts = list(pool.map(lambda share: _accumulate(booster, x, columns, share), shares))
    total = parts[0]
    for part in parts[1:]:
        total += part
    out = np.empty((x.shape[0], x.shape[1] + 1), dtype=np.float32)
    out[:, :-1] = total.T
    # The expected value does not depend on the row, except through a base margin, which XGBoost
    # puts in place of the base score.
    trees_only = booster.predict(xgb.DMatrix(x[:1], base_margin=np.zeros(1)), pred_contribs=True)[0, -1]
    if base_margin is None:
        out[:, -1] = booster.predict(xgb.DMatrix(x[:1]), pred_contribs=True)[0, -1]
    else:
        out[:, -1] = np.asarray(base_margin, dtype=np.float32) + trees_only
    return out
