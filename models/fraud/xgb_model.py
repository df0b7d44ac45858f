"""XGBoost fraud model trained on labelled history, with per-decision reasons.

Two ways to explain a score, both summing with their bias to the model margin:

* ``contributions`` calls XGBoost's ``pred_contribs=True`` (exact TreeSHAP): used for the global importance report and
  audits, but it costs milliseconds per row, too slow for every event.
* ``CompiledTrees`` packs the booster into numpy arrays and walks all trees at once, returning the margin and the
  path attributions that XGBoost gives with ``pred_contribs=True, approx_contribs=True`` (Saabas); this is the hot path
  used when scoring each transaction (tens of microseconds, no DMatrix).
"""

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import xgboost as xgb


@dataclass(frozen=True)
class XGBParams:
    """Booster settings; fixed (not tuned on the test period), seeded, single-threaded for determinism."""

    n_estimators: int = 300
    max_depth: int = 5
    learning_rate: float = 0.1
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    min_child_weight: float = 1.0
    seed: int = 0


def train_booster(X: np.ndarray, y: np.ndarray, names: list[str], params: XGBParams | None = None) -> xgb.Booster:
    """Fit a binary:logistic booster on feature rows ``X`` with labels ``y``."""
    p = params or XGBParams()
    dtrain = xgb.DMatrix(X, label=y.astype(np.float32), feature_names=names, nthread=1)
    config = {
        "objective": "binary:logistic",
        "eval_metric": "aucpr",
        "tree_method": "hist",
        "max_depth": p.max_depth,
        "eta": p.learning_rate,
        "subsample": p.subsample,
        "colsample_bytree": p.colsample_bytree,
        "min_child_weight": p.min_child_weight,
        "seed": p.seed,
        "nthread": 1,
    }
    return xgb.train(config, dtrain, num_boost_round=p.n_estimators)


def params_dict(params: XGBParams) -> dict[str, float]:
    return asdict(params)


def margin(booster: xgb.Booster, X: np.ndarray) -> np.ndarray:
    """Raw log-odds for a batch, via ``inplace_predict`` (no DMatrix)."""
    return booster.inplace_predict(np.ascontiguousarray(X, dtype=np.float32), predict_type="margin")


def contributions(booster: xgb.Booster, X: np.ndarray, approx: bool = False) -> np.ndarray:
    """XGBoost's ``pred_contribs`` (n, n_features + 1); the last column is the bias; rows sum to the margin."""
    dm = xgb.DMatrix(np.ascontiguousarray(X, dtype=np.float32), feature_names=booster.feature_names, nthread=1)
    return booster.predict(dm, pred_contribs=True, approx_contribs=approx)


class CompiledTrees:
    """All trees of a booster as padded numpy arrays; one vectorised walk gives margins and path attributions."""

    def __init__(self, booster: xgb.Booster) -> None:
        model = json.loads(booster.save_raw("json"))
        trees = model["learner"]["gradient_booster"]["model"]["trees"]
        self.n_features = int(model["learner"]["learner_model_param"]["num_feature"])
        base_score = float(model["learner"]["learner_model_param"]["base_score"].strip("[]"))
        self.base_margin = float(np.log(base_score / (1 - base_score)))
        n_nodes = max(len(t["left_children"]) for t in trees)
        n_trees = len(trees)
        self.left = np.zeros((n_trees, n_nodes), dtype=np.int64)
        self.right = np.zeros((n_trees, n_nodes), dtype=np.int64)
        self.feature = np.zeros((n_trees, n_nodes), dtype=np.int64)
        self.threshold = np.full((n_trees, n_nodes), np.inf, dtype=np.float32)
        self.default_left = np.zeros((n_trees, n_nodes), dtype=bool)
        self.value = np.zeros((n_trees, n_nodes), dtype=np.float64)
        depth = 0
        for k, tree in enumerate(trees):
            depth = max(depth, self._pack(k, tree))
        self.depth = depth
        self._flatten()
        self.bias = float(self.value[:, 0].sum() + self.base_margin)

    def _pack(self, k: int, tree: dict) -> int:
        """Fill row ``k``; leaves loop to themselves; node values are cover-weighted means (as XGBoost's Saabas)."""
        left, right = tree["left_children"], tree["right_children"]
        cover = np.asarray(tree["sum_hessian"], dtype=np.float64)
        cond = tree["split_conditions"]
        n = len(left)
        values = np.zeros(n)
        depth = np.zeros(n, dtype=np.int64)
        for node in range(n):
            if left[node] != -1:
                depth[left[node]] = depth[right[node]] = depth[node] + 1
        for node in sorted(range(n), key=lambda i: -depth[i]):
            if left[node] == -1:
                values[node] = cond[node]
            else:
                lc, rc = left[node], right[node]
                values[node] = (values[lc] * cover[lc] + values[rc] * cover[rc]) / (cover[lc] + cover[rc])
        for node in range(n):
            leaf = left[node] == -1
            self.left[k, node] = node if leaf else left[node]
            self.right[k, node] = node if leaf else right[node]
            self.feature[k, node] = 0 if leaf else tree["split_indices"][node]
            self.threshold[k, node] = np.inf if leaf else cond[node]
            self.default_left[k, node] = bool(tree["default_left"][node])
            self.value[k, node] = values[node]
        return int(depth.max())

    def _flatten(self) -> None:
        """Flat views indexed by ``tree * n_nodes + node``, so each walk step is a few 1-D ``take`` calls."""
        n_trees, n_nodes = self.left.shape
        offset = (np.arange(n_trees) * n_nodes)[:, None]
        self._roots = offset[:, 0].copy()
        self._left = (self.left + offset).ravel()
        self._right = (self.right + offset).ravel()
        self._feature = self.feature.ravel()
        self._threshold = self.threshold.ravel()
        self._default_left = self.default_left.ravel()
        self._value = self.value.ravel()

    def _walk_one(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One row: decide every node's direction at once, then follow ``depth`` hops (fewest numpy calls)."""
        xf = x.take(self._feature)
        go_left = xf < self._threshold
        if np.isnan(x).any():
            go_left = np.where(np.isnan(xf), self._default_left, go_left)
        hop = np.where(go_left, self._left, self._right)
        node = self._roots
        path = [node]
        for _ in range(self.depth):
            node = hop.take(node)
            path.append(node)
        nodes = np.stack(path)
        values = self._value.take(nodes)
        contribs = np.bincount(
            self._feature.take(nodes[:-1]).ravel(), np.diff(values, axis=0).ravel(), minlength=self.n_features
        )
        return np.array([values[-1].sum() + self.base_margin]), contribs[None, :]

    def margin_and_contribs(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Margins (B,) and per-feature contributions (B, F); ``contribs.sum(1) + self.bias == margin``."""
        X = np.ascontiguousarray(X, dtype=np.float32)
        if len(X) == 1:
            return self._walk_one(X[0])
        n_rows, n_feat = X.shape
        flat_x = X.ravel()
        row_base = (np.arange(n_rows) * n_feat)[:, None]
        node = np.broadcast_to(self._roots, (n_rows, len(self._roots)))
        has_nan = bool(np.isnan(flat_x).any())
        contrib_idx, path = [], [node]
        for _ in range(self.depth):
            feat_idx = row_base + self._feature.take(node)
            x = flat_x.take(feat_idx)
            go_left = x < self._threshold.take(node)
            if has_nan:
                go_left = np.where(np.isnan(x), self._default_left.take(node), go_left)
            node = np.where(go_left, self._left.take(node), self._right.take(node))
            contrib_idx.append(feat_idx)
            path.append(node)
        values = self._value.take(np.stack(path))
        contribs = np.bincount(
            np.stack(contrib_idx).ravel(), np.diff(values, axis=0).ravel(), minlength=n_rows * n_feat
        ).reshape(n_rows, n_feat)
        return values[-1].sum(axis=1) + self.base_margin, contribs


def save_booster(booster: xgb.Booster, path: Path) -> None:
    booster.save_model(str(path))


def load_booster(path: Path) -> xgb.Booster:
    booster = xgb.Booster()
    booster.load_model(str(path))
    booster.set_param({"nthread": 1})
    return booster
