"""Builds the two sensor models: ``degradation`` (simulated fleet, with failure warning) and ``suthaharan`` (motes).

Seeds: the training fleet, the validation fleet (used only to pick the warning thresholds) and the evaluation fleet
(in ``evaluate.py``) are simulated with different seeds, so no unit is seen twice.
"""

from dataclasses import dataclass

import numpy as np
import torch
from river.anomaly import HalfSpaceTrees

from streamsense.datasets.degradation import CHANNELS as FLEET_CHANNELS
from streamsense.datasets.degradation import N_REGIMES, STEP_S, simulate
from streamsense.datasets.suthaharan import CHANNELS as MOTE_CHANNELS
from streamsense.datasets.suthaharan import READING_INTERVAL_S, SensorNetwork
from streamsense.models.sensors.artifact import SensorModel
from streamsense.models.sensors.forecaster import SensorLSTM, TrainConfig, failure_probability, train
from streamsense.models.sensors.policy import AdaptiveThreshold, WarningPolicy
from streamsense.models.sensors.scoring import summarise, unit_outcome, warning_episodes
from streamsense.models.sensors.series import GridSeries, fleet_series, network_series, windows

VERSION = "1.0.0"
SEQ_LEN = 24
LATENESS = 5
RUL_CAP = 240.0
HORIZON_MINUTES = 15.0
TRAIN_SEED = 101
VALIDATION_SEED = 202
TRAIN_SHARE = 0.4
# The warning threshold is the highest p_enter that warns this share of validation failures >= horizon ahead.
CALIBRATION_WARNED_SHARE = 0.98
LOOK_AHEAD_GRID = (15.0, 30.0, 45.0, 60.0, 90.0, 120.0)
P_ENTER_GRID = tuple(round(float(p), 2) for p in np.arange(0.1, 0.91, 0.1))


@dataclass(frozen=True)
class FleetSizes:
    """How much to simulate; the defaults keep ``streamsense train sensors`` near a minute on one core."""

    train_units: int = 60
    validation_units: int = 30
    days: float = 3.0
    epochs: int = 10


def regime_stats(series: list[GridSeries], n_regimes: int, normal_rul: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-regime channel mean and std over steps far from failure (normal operation)."""
    values = np.concatenate([s.values[s.rul > normal_rul] for s in series])
    regimes = np.concatenate([s.regime[s.rul > normal_rul] for s in series])
    mean = np.stack([values[regimes == r].mean(axis=0) for r in range(n_regimes)])
    std = np.stack([values[regimes == r].std(axis=0) + 1e-6 for r in range(n_regimes)])
    return mean, std


def _normalised_windows(
    series: list[GridSeries], mean: np.ndarray, std: np.ndarray, seq_len: int, keep: list[np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """All (or the kept) windows of every series, normalised, with the RUL at each window's last step."""
    xs, ruls = [], []
    for k, s in enumerate(series):
        vals, regs = windows(s, seq_len)
        idx = np.arange(len(vals)) if keep is None else keep[k]
        xs.append((vals[idx] - mean[regs[idx]]) / std[regs[idx]])
        ruls.append(s.rul[seq_len - 1 :][idx])
    return np.concatenate(xs).astype(np.float32), np.concatenate(ruls)


def _fit_hst(z_rows: np.ndarray, seed: int, model: SensorModel) -> tuple[HalfSpaceTrees, float]:
    """Frozen warm-up scorer: learn normal rows, threshold at the 99.5% quantile of scores on other normal rows."""
    rng = np.random.default_rng(seed)
    hst = HalfSpaceTrees(n_trees=25, height=8, window_size=250, seed=seed)
    order = rng.permutation(len(z_rows))
    for i in order[:5000]:
        hst.learn_one(model.hst_features(z_rows[i]))
    scores = [hst.score_one(model.hst_features(z_rows[i])) for i in order[5000:7000]]
    return hst, float(np.quantile(scores, 0.995))


def _residual_scale(net: SensorLSTM, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel std of last-step forecast residuals, and the per-window residual vectors."""
    with torch.inference_mode():
        forecast, _ = net.last_step(torch.from_numpy(x))
    residual = x[:, -1] - forecast.numpy()
    return residual.std(axis=0) + 1e-6, residual


def _assemble(
    name: str,
    channels: tuple[str, ...],
    step_s: float,
    mean: np.ndarray,
    std: np.ndarray,
    x: np.ndarray,
    rul: np.ndarray | None,
    epochs: int,
    seed: int,
) -> SensorModel:
    """Train the LSTM on normalised windows ``x``, then fit the residual scale, the threshold floor and the HST."""
    net, history = train(x, rul, TrainConfig(epochs=epochs, seed=seed), rul_cap=RUL_CAP)
    normal = x if rul is None else x[rul > 3 * RUL_CAP]
    resid_std, residual = _residual_scale(net, normal)
    scores = np.sqrt(np.mean((residual / resid_std) ** 2, axis=1))
    model = SensorModel(
        name=name,
        version=VERSION,
        channels=channels,
        step_s=step_s,
        seq_len=SEQ_LEN,
        lateness=LATENESS,
        regime_mean=mean,
        regime_std=std,
        resid_std=resid_std,
        net=net,
        threshold=AdaptiveThreshold(floor=float(np.quantile(scores, 0.995))),
        hst=HalfSpaceTrees(),
        hst_threshold=1.0,
        rul_cap=RUL_CAP,
        horizon_minutes=HORIZON_MINUTES,
        metrics={"train_" + k: v for k, v in history.items()} | {"train_windows": len(x), "train_epochs": epochs},
    )
    model.hst, model.hst_threshold = _fit_hst(normal[:, -1], seed, model)
    return model


def train_degradation(
    sizes: FleetSizes | None = None, seed: int = TRAIN_SEED, horizon_minutes: float = HORIZON_MINUTES
) -> SensorModel:
    """LSTM with RUL head on a simulated fleet; warning thresholds picked on a separately seeded validation fleet
    so that failures are warned at least ``horizon_minutes`` ahead (kept in the artifact).
    """
    sizes = sizes or FleetSizes()
    torch.manual_seed(seed)
    series = fleet_series(simulate(sizes.train_units, seed=seed, days=sizes.days, prefix="train"))
    mean, std = regime_stats(series, N_REGIMES, normal_rul=3 * RUL_CAP)
    rng = np.random.default_rng(seed)
    # Windows near failure are rare and carry the RUL signal: keep all of them, and a quarter of the others.
    keep = []
    for s in series:
        end_rul = s.rul[SEQ_LEN - 1 :]
        keep.append(np.flatnonzero((end_rul <= 3 * RUL_CAP) | (rng.random(len(end_rul)) < 0.25)))
    x, rul = _normalised_windows(series, mean, std, SEQ_LEN, keep)
    model = _assemble("degradation", FLEET_CHANNELS, STEP_S, mean, std, x, rul, sizes.epochs, seed)
    model.horizon_minutes = horizon_minutes
    validation = fleet_series(simulate(sizes.validation_units, seed=VALIDATION_SEED, days=sizes.days, prefix="val"))
    model.warning, calibration = calibrate_warning(model, validation)
    model.metrics |= calibration
    return model


def fleet_rul(model: SensorModel, series: list[GridSeries]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Predicted ``(mu, log_sigma)`` of ``log1p(RUL)`` at every grid step from ``seq_len - 1`` on (offline)."""
    out = []
    for s in series:
        vals, regs = windows(s, model.seq_len)
        x = model.normalise(vals, regs).astype(np.float32)
        with torch.inference_mode():
            _, rul = model.net.last_step(torch.from_numpy(x))
        if rul is None:
            raise ValueError(f"{model.name} has no RUL head")
        out.append((rul.numpy()[:, 0], np.clip(rul.numpy()[:, 1], -4.0, 3.0)))
    return out


def calibrate_warning(model: SensorModel, series: list[GridSeries]) -> tuple[WarningPolicy, dict[str, float]]:
    """Grid over look-ahead and ``p_enter`` (``p_exit`` is half of it) on the validation fleet: among settings that
    warn ``CALIBRATION_WARNED_SHARE`` of failures at least the horizon ahead, the one with the fewest false alarms,
    then the shortest look-ahead and the highest ``p_enter``.
    """
    predictions = fleet_rul(model, series)
    unit_days = sum(len(s.rul) for s in series) / 1440.0
    best: tuple[tuple[float, ...], WarningPolicy, dict[str, float]] | None = None
    for look_ahead in LOOK_AHEAD_GRID:
        probabilities = [failure_probability(mu, ls, look_ahead) for mu, ls in predictions]
        for p_enter in P_ENTER_GRID:
            policy = WarningPolicy(look_ahead_minutes=look_ahead, p_enter=p_enter, p_exit=p_enter / 2)
            leads, false, n_episodes = [], 0, 0
            for s, p in zip(series, probabilities, strict=True):
                minutes = np.arange(model.seq_len - 1, len(s.rul), dtype=np.float64)
                episodes = warning_episodes(policy, minutes.tolist(), p.tolist())
                failure = s.rul[0] if np.isfinite(s.rul[0]) else np.nan
                lead, n_false = unit_outcome(episodes, float(minutes[-1]), float(failure))
                if not np.isnan(failure):
                    leads.append(lead)
                false += n_false
                n_episodes += len(episodes)
            summary = summarise(leads, false, n_episodes, unit_days, model.horizon_minutes)
            if summary["warned_15min_share"] < CALIBRATION_WARNED_SHARE:
                continue
            rank = (false, look_ahead, -p_enter)
            if best is None or rank < best[0]:
                best = (rank, policy, summary)
    if best is None:
        raise RuntimeError("no warning setting reaches the calibration target on the validation fleet")
    return best[1], {"validation_" + k: v for k, v in best[2].items()}


def train_suthaharan(networks: list[SensorNetwork], epochs: int = 6, seed: int = TRAIN_SEED) -> SensorModel:
    """Forecaster (no RUL head) on the first ``TRAIN_SHARE`` of each mote's readings; the rest is held out."""
    series = [head_share(s, TRAIN_SHARE) for n in networks for s in network_series(n)]
    mean, std = regime_stats(series, 2, normal_rul=0.0)
    x, _ = _normalised_windows(series, mean, std, SEQ_LEN)
    return _assemble("suthaharan", MOTE_CHANNELS, READING_INTERVAL_S, mean, std, x, None, epochs, seed)


def head_share(series: GridSeries, share: float) -> GridSeries:
    """The first ``share`` of a series in time order (the training part of a time-ordered split)."""
    n = int(len(series.values) * share)
    return GridSeries(series.device, series.values[:n], series.regime[:n], series.rul[:n], series.label[:n])
