"""How failure warnings are scored, shared by threshold calibration (validation fleet) and evaluation (test fleet).

Definitions (event time, minutes):
- A warning episode runs from the reading that turns the warning on to the reading that turns it off (or to the
  unit's last reading).
- A failure is warned ``lead`` minutes ahead when the episode still on at the unit's last reading started ``lead``
  minutes before the true failure time; a failure with no episode on at its end is missed (lead -1).
- A false alarm is an episode that starts on a unit that never fails in the simulated period, or more than
  ``FALSE_ALARM_MINUTES`` (6 hours) before the unit's failure.
- ``warned_15min_share``: share of failures warned at least ``horizon_minutes`` ahead (15 by default; the key keeps
  its name whatever the horizon, and ``eval anomaly`` prints the horizon next to it).
- ``false_alarms_per_unit_day``: false alarms divided by monitored unit-days (all units, whole period);
  ``false_alarm_share``: false alarms divided by all episodes.
"""

import math
from collections.abc import Sequence

import numpy as np

from streamsense.models.sensors.policy import WarningPolicy

FALSE_ALARM_MINUTES = 360.0

Episode = tuple[float, float]


def warning_episodes(policy: WarningPolicy, minutes: Sequence[float], probabilities: Sequence[float]) -> list[Episode]:
    """Replay the latch over one unit's readings (in event-time order): (start, end) minute of each episode."""
    state = None
    episodes: list[Episode] = []
    start = None
    minute = math.nan
    for minute, p in zip(minutes, probabilities, strict=True):
        state, on = policy.step(state, p, minute * 60.0)
        if on and start is None:
            start = minute
        elif not on and start is not None:
            episodes.append((start, minute))
            start = None
    if start is not None:
        episodes.append((start, minute))
    return episodes


def unit_outcome(episodes: list[Episode], last_minute: float, failure_minute: float) -> tuple[float, int]:
    """(lead minutes or -1 when missed or healthy, number of false alarms) for one unit."""
    if math.isnan(failure_minute):
        return -1.0, len(episodes)
    false = sum(1 for start, _ in episodes if failure_minute - start > FALSE_ALARM_MINUTES)
    final = episodes[-1] if episodes else None
    lead = failure_minute - final[0] if final and final[1] >= last_minute else -1.0
    return lead, false


def summarise(
    leads: list[float], false_alarms: int, episodes: int, unit_days: float, horizon_minutes: float
) -> dict[str, float]:
    """The figures ``streamsense eval anomaly`` reports for the failure warning."""
    lead_arr = np.array(leads)
    warned = lead_arr[lead_arr >= horizon_minutes]
    return {
        "failures": len(leads),
        "warned_15min_share": float(len(warned) / len(leads)) if leads else 0.0,
        "median_lead_minutes": float(np.median(lead_arr[lead_arr >= 0])) if (lead_arr >= 0).any() else 0.0,
        "missed_failures": int((lead_arr < 0).sum()),
        "false_alarms": false_alarms,
        "warning_episodes": episodes,
        "false_alarms_per_unit_day": false_alarms / unit_days,
        "false_alarm_share": false_alarms / episodes if episodes else 0.0,
    }
