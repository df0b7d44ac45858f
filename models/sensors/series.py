"""Offline views of a device's history on its event-time grid, the same view the window keeper builds online."""

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from streamsense.datasets.degradation import SimulatedFleet
from streamsense.datasets.suthaharan import SensorNetwork


@dataclass(frozen=True)
class GridSeries:
    """One device: ``values`` (steps, channels) forward filled, ``regime`` per step, ``rul`` minutes per step."""

    device: str
    values: np.ndarray
    regime: np.ndarray
    rul: np.ndarray
    label: np.ndarray


def fleet_series(fleet: SimulatedFleet) -> list[GridSeries]:
    """Each unit on a one-minute grid from minute 0 to its last reading; missing minutes take the previous row."""
    out = []
    for u in range(fleet.n_units):
        rows = np.flatnonzero(fleet.unit == u)
        minutes = fleet.minute[rows].astype(np.int64)
        length = int(minutes.max()) + 1
        source = np.maximum.accumulate(np.where(np.isin(np.arange(length), minutes), np.arange(length), 0))
        index = np.searchsorted(minutes, source)
        fail = fleet.failure_minute[u]
        rul = (np.full(length, np.inf) if np.isnan(fail) else fail - np.arange(length)).astype(np.float64)
        out.append(
            GridSeries(
                device=fleet.unit_ids[u],
                values=fleet.values[rows][index],
                regime=fleet.regime[rows][index],
                rul=rul,
                label=fleet.spike[rows][index].astype(np.int64) * (source == np.arange(length)),
            )
        )
    return out


def network_series(network: SensorNetwork) -> list[GridSeries]:
    """Each mote's readings in order (the published data has one reading per 5-second slot)."""
    out = []
    for mote in np.unique(network.mote_id):
        rows = network.mote_id == mote
        out.append(
            GridSeries(
                device=f"{network.name}-mote{mote}",
                values=network.values[rows],
                regime=network.indoor[rows],
                rul=np.full(int(rows.sum()), np.inf),
                label=network.label[rows],
            )
        )
    return out


def windows(series: GridSeries, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Every full window (n, seq_len, channels) with its regimes (n, seq_len); window i ends at step i + seq_len - 1."""
    vals = sliding_window_view(series.values, seq_len, axis=0).transpose(0, 2, 1)
    regs = sliding_window_view(series.regime, seq_len)
    return vals, regs
