"""Baselines the LSTM is compared with: a rolling robust z-score and river's online HalfSpaceTrees."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from river.anomaly import HalfSpaceTrees

MAD_TO_STD = 1.4826


def robust_z_scores(values: np.ndarray, window: int = 120) -> np.ndarray:
    """Max over channels of ``|x - median| / (1.4826 MAD)`` against the previous ``window`` readings (0 before)."""
    scores = np.zeros(len(values))
    if len(values) <= window:
        return scores
    past = sliding_window_view(values[:-1], window, axis=0)  # (n - window, channels, window)
    median = np.median(past, axis=2)
    mad = np.median(np.abs(past - median[:, :, None]), axis=2) * MAD_TO_STD + 1e-6
    scores[window:] = np.max(np.abs(values[window:] - median) / mad, axis=1)
    return scores


def hst_online_scores(features: np.ndarray, seed: int = 0, window_size: int = 250) -> np.ndarray:
    """Score each row, then learn it (the online protocol); ``features`` must already lie in [0, 1]."""
    model = HalfSpaceTrees(n_trees=25, height=8, window_size=window_size, seed=seed)
    names = [f"x{j}" for j in range(features.shape[1])]
    scores = np.empty(len(features))
    for i, row in enumerate(features.tolist()):
        x = dict(zip(names, row, strict=True))
        scores[i] = model.score_one(x)
        model.learn_one(x)
    return scores
