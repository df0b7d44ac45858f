"""Online, config-driven fraud features: one code path computes them offline for training and online for scoring.

State is explicit so the streaming worker can keep it in tables:

* account state and terminal state (``new_key_state()``), keyed by account or terminal id: per-day buckets of
  transactions (columns ``d`` day, ``c`` count, ``s`` amount sum, ``m`` max amount, ``n`` night count) and of label
  arrivals (``ld`` day, ``ln`` labels, ``lf`` frauds), plus all-time label counts ``te`` for target encoding. Buckets
  older than the longest window are dropped, so a key's state is bounded (at most ``max(windows)`` entries per
  column). Everything is lists of numbers: JSON-able as is.
* global state (``pipeline.global_state``): daily transaction counts of all the traffic (``d``, ``c``; see
  ``FraudFeaturePipeline.share``), the earliest and newest event times learned (``first``, ``last``), once
  resumed the daily rate that stands for the days it holds no count for (``rate``) and the span of event time it had
  counted (``held``; see ``FraudFeaturePipeline.resume``), label counts (the target-encoding prior) and a
  log-bucket histogram that gives streaming quantiles for binning.

Order of calls per transaction: ``transform_one`` (features from state *before* the event), then ``learn_one`` (adds
the event). A label only enters state through ``learn_label`` when it arrives, so a label can never change the
features of its own, earlier-scored event. Windows are calendar-day buckets (UTC): the 1-day window is today so far,
the 7-day window today and the six days before, and so on. A transaction that comes late (dated before its key's
newest day) sees the buckets up to its own day only; the all-time target-encoding counts hold what has arrived.
"""

import bisect
import math
import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

DAY_S = 86_400
NIGHT_END_HOUR = 6
MIN_RATE_SPAN_S = 3_600
"""The least event time a state must span for ``resume`` to take a daily rate from it."""
_SKETCH_MIN = 0.01
_SKETCH_GAMMA = 1.05
_SKETCH_BINS = 520
_EDGE_REFRESH = 1_000
_TX_COLUMNS = ("d", "c", "s", "m", "n")
_LABEL_COLUMNS = ("ld", "ln", "lf")
_BINNING = re.compile(r"^binning\(n=(\d+)\)$")
COLD = {"new_account": False, "new_account_and_terminal": True}
"""Kinds of cold copy (``FraudFeaturePipeline.as_new``), each with whether the terminal is new too."""
NO_DISTANCE = -1.0
"""The distance of a transaction that names no coordinates (the schema makes them optional)."""
NUMERIC_OPS = ("log", "sqrt", "binning(n=K)")
CATEGORICAL_OPS = ("target_encoding", "frequency_encoding")


@dataclass(frozen=True)
class FeatureConfig:
    """Which ops run on which inputs; build from a plain dict with ``FeatureConfig.from_dict``."""

    numeric_ops: tuple[str, ...] = ("log", "sqrt", "binning(n=10)")
    categorical_ops: tuple[str, ...] = ("target_encoding", "frequency_encoding")
    windows: tuple[int, ...] = (1, 7, 30)
    te_smoothing: float = 50.0

    def __post_init__(self) -> None:
        for op in self.numeric_ops:
            if op not in ("log", "sqrt") and not _BINNING.match(op):
                raise ValueError(f"unknown numeric op {op!r}; known: {NUMERIC_OPS}")
        for op in self.categorical_ops:
            if op not in CATEGORICAL_OPS:
                raise ValueError(f"unknown categorical op {op!r}; known: {CATEGORICAL_OPS}")
        if list(self.windows) != sorted(set(self.windows)) or not self.windows:
            raise ValueError("windows must be distinct and increasing")

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "FeatureConfig":
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def new_key_state() -> dict[str, list]:
    """Empty state for one account or one terminal: columnar day buckets (see module docstring)."""
    return {col: [] for col in (*_TX_COLUMNS, *_LABEL_COLUMNS)} | {"te": [0, 0]}


def new_global_state() -> dict[str, Any]:
    """Empty state shared by all keys (one per worker): daily counts, label prior, amount histogram, bin edges."""
    return {
        "d": [],
        "c": [],
        "te": [0, 0],
        "hist": [0] * _SKETCH_BINS,
        "n": 0,
        "edges": {},
        "first": None,
        "last": None,
        "rate": None,
        "held": None,
    }


def _sketch_index(value: float) -> int:
    if value <= _SKETCH_MIN:
        return 0
    return min(_SKETCH_BINS - 1, 1 + int(math.log(value / _SKETCH_MIN) / math.log(_SKETCH_GAMMA)))


def _sketch_quantiles(hist: list[int], n_bins: int) -> list[float]:
    """Upper bucket bounds where the cumulative count crosses k/n_bins; relative error about 5%."""
    total = sum(hist)
    if total == 0:
        return []
    edges: list[float] = []
    targets = [total * k / n_bins for k in range(1, n_bins)]
    cum, t = 0, 0
    for idx, count in enumerate(hist):
        cum += count
        while t < len(targets) and cum >= targets[t]:
            edges.append(_SKETCH_MIN * _SKETCH_GAMMA**idx)
            t += 1
    return edges


def _until(days: list[int], today: int) -> int:
    """The end of the buckets up to ``today``: an event that comes late must not see the days after its own."""
    return len(days) if not days or days[-1] <= today else bisect.bisect_right(days, today)


def _window_sums(state: dict[str, list], today: int, windows: tuple[int, ...]) -> list[tuple[float, ...]]:
    """Per window (count, sum, max, night) over the transaction buckets; slices keep the work in C."""
    days, cnt, total, peak, night = state["d"], state["c"], state["s"], state["m"], state["n"]
    j = _until(days, today)
    out = []
    for w in windows:
        i = bisect.bisect_right(days, today - w)
        out.append((sum(cnt[i:j]), sum(total[i:j]), max(peak[i:j], default=0.0), sum(night[i:j])))
    return out


def _global_count(g: dict[str, Any], ts: float, window: int) -> float:
    """All the traffic of the ``window`` days up to ``ts``: the observed daily counts, plus, once resumed, the rate
    for each day of the window with no count (today up to ``ts``). A day counts as observed or unseen by whether it
    holds a count, not by which transaction came first, so a straggler or a lone early transaction cannot end the
    unseen time; a day a resumed worker watched with no traffic at all counts at the rate too."""
    today = int(ts // DAY_S)
    days = g["d"]
    i, j = bisect.bisect_right(days, today - window), _until(days, today)
    observed = sum(g["c"][i:j])
    if g["rate"] is None:
        return observed
    today_seen = j > i and days[j - 1] == today
    unseen = window - (j - i) - (0 if today_seen else 1 - (ts % DAY_S) / DAY_S)
    return observed + g["rate"] * unseen


def _label_sums(state: dict[str, list], today: int, windows: tuple[int, ...]) -> list[tuple[float, float]]:
    """Per window (labels, frauds) over the label-arrival buckets."""
    days, n, f = state["ld"], state["ln"], state["lf"]
    j = _until(days, today)
    out = []
    for w in windows:
        i = bisect.bisect_right(days, today - w)
        out.append((sum(n[i:j]), sum(f[i:j])))
    return out


def _prune(state: dict[str, list], columns: tuple[str, ...], oldest: int) -> None:
    i = bisect.bisect_right(state[columns[0]], oldest)
    if i:
        for col in columns:
            del state[col][:i]


def _bucket(state: dict[str, list], columns: tuple[str, ...], day: int, horizon: int) -> int | None:
    """Index of ``day``'s bucket, made where it belongs when missing (days stay ascending, so a late event lands in
    its own day, not after the newest), or None for a day no window reaches any more. A new newest day drops the
    buckets older than the horizon."""
    days = state[columns[0]]
    if days and days[-1] == day:
        return len(days) - 1
    if not days or day > days[-1]:
        days.append(day)
        for col in columns[1:]:
            state[col].append(0)
        _prune(state, columns, day - horizon)
        return len(days) - 1
    if day <= days[-1] - horizon:
        return None
    i = bisect.bisect_left(days, day)
    if days[i] != day:
        days.insert(i, day)
        for col in columns[1:]:
            state[col].insert(i, 0)
    return i


def _add_tx(state: dict[str, list], day: int, amount: float, night: int, horizon: int) -> None:
    i = _bucket(state, _TX_COLUMNS, day, horizon)
    if i is None:
        return
    state["c"][i] += 1
    state["s"][i] += amount
    if amount > state["m"][i]:
        state["m"][i] = amount
    state["n"][i] += night


def _add_label(state: dict[str, list], day: int, is_fraud: bool, horizon: int) -> None:
    i = _bucket(state, _LABEL_COLUMNS, day, horizon)
    if i is not None:
        state["ln"][i] += 1
        state["lf"][i] += int(is_fraud)
    state["te"][0] += 1
    state["te"][1] += int(is_fraud)


class FraudFeaturePipeline:
    """Turns one transaction plus its account/terminal state into a fixed-order feature vector (``names``)."""

    def __init__(self, config: FeatureConfig | dict[str, Any] | None = None) -> None:
        self.config = config if isinstance(config, FeatureConfig) else FeatureConfig.from_dict(config or {})
        self.global_state = new_global_state()
        self.share = 1.0
        """The share of the scoring stage's partitions this pipeline sees (a worker sets it on each assignment):
        a transaction adds ``1 / share`` to the daily counts, which so estimate all the traffic, whatever the number
        of workers, and stay valid across a rebalance. Assumes keys spread the traffic evenly over partitions."""
        self._bin_ops = [(op, int(m.group(1))) for op in self.config.numeric_ops if (m := _BINNING.match(op))]
        self.names = self._names()
        self._key_columns = {who: self._key_block(who) for who in ("account", "terminal")}

    def _key_block(self, who: str) -> tuple[list[int], list[int], list[int]]:
        """Columns of one key's features that an empty state sets to 0, to 1 (amount to mean) and to the prior."""
        zero, one, prior = [], [], []
        for i, name in enumerate(self.names):
            if name == f"{who}_id_te":
                prior.append(i)
            elif name.startswith(f"amount_to_{who}_"):
                one.append(i)
            elif name.startswith(f"{who}_"):
                zero.append(i)
        return zero, one, prior

    def _names(self) -> list[str]:
        names = ["amount"]
        for op in self.config.numeric_ops:
            binning = _BINNING.match(op)
            names.append(f"amount_bin{binning.group(1)}" if binning else f"amount_{op}")
        names += ["is_night", "is_weekend", "distance"]
        for who in ("account", "terminal"):
            for w in self.config.windows:
                names += [f"{who}_count_{w}d", f"{who}_mean_amount_{w}d", f"{who}_max_amount_{w}d"]
                names += [f"{who}_night_share_{w}d"]
            names.append(f"amount_to_{who}_mean_{self.config.windows[-1]}d")
            for w in self.config.windows:
                names.append(f"{who}_fraud_rate_{w}d")
        for key in ("account_id", "terminal_id"):
            for op in self.config.categorical_ops:
                names.append(f"{key}_{'te' if op == 'target_encoding' else 'freq'}")
        return names

    def key_summary(self, ts: float, state: dict[str, list]) -> list[float]:
        """What the features need from one key's state at epoch seconds ``ts``: per window (count, sum, max, night)
        and (labels, frauds), then the all-time target-encoding counts. A few numbers, so one processing stage can
        summarise the account and hand the summary to the stage that owns the terminal."""
        today = int(ts // DAY_S)
        out: list[float] = []
        for sums in _window_sums(state, today, self.config.windows):
            out += sums
        for sums in _label_sums(state, today, self.config.windows):
            out += sums
        return out + list(state["te"])

    def transform_one(
        self,
        ts: float,
        amount: float,
        account_state: dict[str, list],
        terminal_state: dict[str, list],
        coords: tuple[float, float, float, float] | None = None,
    ) -> list[float]:
        """Features of a transaction at epoch seconds ``ts`` from state before it; reads, never writes, state."""
        return self.transform_summaries(
            ts, amount, self.key_summary(ts, account_state), self.key_summary(ts, terminal_state), coords
        )

    def transform_summaries(
        self,
        ts: float,
        amount: float,
        account: list[float],
        terminal: list[float],
        coords: tuple[float, float, float, float] | None = None,
    ) -> list[float]:
        """``transform_one`` from the two keys' ``key_summary`` (the one code path for training and scoring)."""
        cfg = self.config
        g = self.global_state
        n_windows = len(cfg.windows)
        today = int(ts // DAY_S)
        hour = (ts % DAY_S) / 3600
        out = [amount]
        for op in cfg.numeric_ops:
            if op == "log":
                out.append(math.log1p(amount))
            elif op == "sqrt":
                out.append(math.sqrt(amount))
            else:
                out.append(float(bisect.bisect_right(g["edges"].get(op, ()), amount)))
        out.append(1.0 if hour < NIGHT_END_HOUR else 0.0)
        out.append(1.0 if (today + 3) % 7 >= 5 else 0.0)
        out.append(math.hypot(coords[0] - coords[2], coords[1] - coords[3]) if coords else NO_DISTANCE)
        global_30 = _global_count(g, ts, cfg.windows[-1])
        te_prior = g["te"][1] / g["te"][0] if g["te"][0] else 0.0
        for summary in (account, terminal):
            for w in range(n_windows):
                cnt, total, peak, night = summary[4 * w : 4 * w + 4]
                out += [cnt, total / cnt if cnt else 0.0, peak, night / cnt if cnt else 0.0]
            cnt, total = summary[4 * (n_windows - 1)], summary[4 * (n_windows - 1) + 1]
            out.append(amount * cnt / total if total > 0 else 1.0)
            labels = 4 * n_windows
            for w in range(n_windows):
                n, f = summary[labels + 2 * w], summary[labels + 2 * w + 1]
                out.append(f / n if n else 0.0)
        for summary in (account, terminal):
            cnt = summary[4 * (n_windows - 1)]
            te_n, te_f = summary[-2], summary[-1]
            for op in cfg.categorical_ops:
                if op == "target_encoding":
                    out.append((te_f + cfg.te_smoothing * te_prior) / (te_n + cfg.te_smoothing))
                else:
                    out.append(cnt / global_30 if global_30 else 0.0)
        return out

    def as_new(self, X: np.ndarray, terminal_too: bool = False) -> np.ndarray:
        """Feature rows (or one row) as if the account, and the terminal when ``terminal_too``, had no history: what
        ``transform_summaries`` gives from empty states now. Cold copies of labelled rows teach the booster new cards,
        which a simulator whose every card has a history would not show it."""
        out = np.array(X, dtype=np.float64)
        g = self.global_state
        te_prior = g["te"][1] / g["te"][0] if g["te"][0] else 0.0
        smoothing = self.config.te_smoothing
        for who in ("account", "terminal") if terminal_too else ("account",):
            zero, one, prior = self._key_columns[who]
            out[..., zero] = 0.0
            out[..., one] = 1.0
            out[..., prior] = (0 + smoothing * te_prior) / (0 + smoothing)
        return out

    def learn_one(
        self, ts: float, amount: float, account_state: dict[str, list], terminal_state: dict[str, list]
    ) -> None:
        """Add a scored transaction to its account, terminal and global state (no label involved)."""
        self.learn_key(ts, amount, account_state)
        self.learn_key(ts, amount, terminal_state)
        self.learn_global(ts, amount)

    def learn_key(self, ts: float, amount: float, state: dict[str, list]) -> None:
        """Add a scored transaction to one account's or terminal's state."""
        night = 1 if (ts % DAY_S) < NIGHT_END_HOUR * 3600 else 0
        _add_tx(state, int(ts // DAY_S), amount, night, self.config.windows[-1])

    def learn_global(self, ts: float, amount: float) -> None:
        """Add a scored transaction to the global state (daily counts, ``1 / share`` each; the span of event time
        learned; amount sketch, bin edges). Once resumed, a transaction dated within the span the checkpoint had
        counted is taken as counted already (a replay of those dates, or a straggler too few to matter)."""
        g = self.global_state
        held = g["held"]
        if held is None or not held[0] <= ts <= held[1]:
            i = _bucket(g, ("d", "c"), int(ts // DAY_S), self.config.windows[-1])
            if i is not None:
                g["c"][i] += 1 / self.share
        g["first"] = ts if g["first"] is None else min(g["first"], ts)
        g["last"] = ts if g["last"] is None else max(g["last"], ts)
        g["hist"][_sketch_index(amount)] += 1
        g["n"] += 1
        if g["n"] % _EDGE_REFRESH == 0 or g["n"] in (10, 100):
            for op, n_bins in self._bin_ops:
                g["edges"][op] = _sketch_quantiles(g["hist"], n_bins)

    def resume(self) -> None:
        """Take the state as a checkpoint restored by a worker: from now on each day of the window it holds no count
        for went unseen (traffic dated after the checkpoint's newest event, or before the days it holds: a worker
        starts on traffic dated long after its model's training data, after its last snapshot, or replays older
        dates), though the key states, kept elsewhere, hold it. Such a day counts at the daily rate of the window up
        to ``last``, fixed here: the window's count (a resumed state's unseen days at its old rate included) over the
        event time it covers, from ``first`` or the window's start, whichever is later (the window's start once
        resumed). So the frequency encodings keep the scale they were trained on from the first transaction, and
        become the plain ratio as the worker fills the window's days. Under ``MIN_RATE_SPAN_S`` of event time says
        too little of a rate: the state keeps the rate it had, or none (the plain ratio of what it observes). The
        span ``first`` to ``last`` becomes ``held`` (see ``learn_global``). A state that learned nothing since it was
        last resumed stays as is (a worker restarted before its first transaction keeps its rate)."""
        g = self.global_state
        if g["last"] is None or g["held"] == [g["first"], g["last"]]:
            return
        window, last = self.config.windows[-1], g["last"]
        start = (int(last // DAY_S) - window + 1) * DAY_S
        if g["rate"] is None:
            start = max(start, g["first"])
        if last - start >= MIN_RATE_SPAN_S:
            g["rate"] = _global_count(g, last, window) * DAY_S / (last - start)
            g["held"] = [g["first"], last]

    def learn_label(
        self, label_ts: float, is_fraud: bool, account_state: dict[str, list], terminal_state: dict[str, list]
    ) -> None:
        """Fold an arrived label into both keys' state and the global prior (what the offline replay does)."""
        self.learn_label_key(label_ts, is_fraud, account_state)
        self.learn_label_key(label_ts, is_fraud, terminal_state)
        self.learn_label_global(is_fraud)

    def learn_label_key(self, label_ts: float, is_fraud: bool, state: dict[str, list]) -> None:
        """Fold an arrived label into one account's or terminal's target encoding and fraud-rate windows."""
        _add_label(state, int(label_ts // DAY_S), is_fraud, self.config.windows[-1])

    def learn_label_global(self, is_fraud: bool) -> None:
        """Fold an arrived label into the global target-encoding prior (once per label)."""
        self.global_state["te"][0] += 1
        self.global_state["te"][1] += int(is_fraud)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able config and global state, for checkpoints and artifacts."""
        return {"config": self.config.to_dict(), "global_state": self.global_state}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> "FraudFeaturePipeline":
        """Restore ``to_dict``'s output. A global state saved before ``first`` was kept takes its oldest day's start
        as ``first`` and, before ``last``, its newest day's end as ``last``; one saved with ``gaps`` (unseen spans,
        each with its daily rate) takes the newest span's rate, which ``resume`` then re-estimates."""
        pipeline = cls(FeatureConfig.from_dict(raw["config"]))
        g = dict(raw["global_state"])
        gaps = g.pop("gaps", [])
        span = {"first": g["d"][0] * DAY_S, "last": (g["d"][-1] + 1) * DAY_S} if g["d"] else {}
        pipeline.global_state = (
            {"first": None, "last": None, "rate": gaps[-1][2] if gaps else None, "held": None} | span | g
        )
        return pipeline
