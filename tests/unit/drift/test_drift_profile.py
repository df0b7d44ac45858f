import json
import math
from pathlib import Path

import numpy as np
import pytest

from streamsense.models.drift.profile import FeatureWindow, ReferenceProfile, load
from streamsense.models.drift.psi import psi_from_samples


def _profile(seed: int = 0) -> ReferenceProfile:
    rng = np.random.default_rng(seed)
    return ReferenceProfile.fit("fraud", {"amount": rng.normal(size=3000), "hour": rng.uniform(0, 24, size=3000)})


def _feed(window: FeatureWindow, amount: np.ndarray, hour: np.ndarray) -> None:
    for a, h in zip(amount, hour, strict=True):
        window.learn_one({"amount": float(a), "hour": float(h)})


def test_window_from_same_distribution_shows_no_drift() -> None:
    profile = _profile()
    rng = np.random.default_rng(1)
    window = profile.new_window()
    _feed(window, rng.normal(size=2000), rng.uniform(0, 24, size=2000))
    report = profile.compare(window)
    assert report.level == "ok"
    assert report.current_size == 2000 and report.reference_size == 3000


def test_window_with_shifted_feature_flags_only_that_feature() -> None:
    profile = _profile()
    rng = np.random.default_rng(2)
    window = profile.new_window()
    _feed(window, rng.normal(loc=1.0, size=2000), rng.uniform(0, 24, size=2000))
    report = profile.compare(window)
    assert report.drifted() == ["amount"]


def test_streaming_psi_equals_batch_psi_on_the_same_rows() -> None:
    rng = np.random.default_rng(3)
    ref, cur = rng.normal(size=1000), rng.normal(loc=0.3, size=800)
    profile = ReferenceProfile.fit("m", {"x": ref})
    window = profile.new_window()
    for value in cur:
        window.learn_one({"x": float(value)})
    psi = next(f.value for f in profile.compare(window).features if f.statistic == "psi")
    assert psi == pytest.approx(psi_from_samples(ref, cur))


def test_missing_and_nan_values_are_skipped() -> None:
    window = _profile().new_window()
    window.learn_one({"amount": math.nan})
    window.learn_one({"hour": 3.0})
    assert sum(window.counts["amount"]) == 0 and sum(window.counts["hour"]) == 1
    assert window.n == 2


def test_profile_and_window_round_trip_through_json(tmp_path: Path) -> None:
    profile = _profile()
    profile.save(tmp_path / "profile.json")
    assert load(tmp_path / "profile.json") == profile
    window = profile.new_window()
    window.learn_one({"amount": 0.5, "hour": 12.0})
    assert FeatureWindow.from_dict(json.loads(json.dumps(window.to_dict()))) == window


def test_profile_with_unknown_version_is_rejected() -> None:
    data = _profile().to_dict() | {"version": 99}
    with pytest.raises(ValueError):
        ReferenceProfile.from_dict(data)


def test_a_feature_with_no_finite_reference_value_is_unchecked_with_why_and_the_others_are_still_checked() -> None:
    rng = np.random.default_rng(4)
    reference = {"amount": rng.normal(size=3000), "hour": rng.uniform(0, 24, size=3000), "empty": np.full(3000, np.nan)}
    profile = ReferenceProfile.fit("fraud", reference)
    assert profile.unchecked == {"empty": "no_reference_values"}
    assert set(profile.edges) == {"amount", "hour"} and profile.n == 3000
    window = profile.new_window()
    for a, h in zip(rng.normal(loc=1.0, size=2000), rng.uniform(0, 24, size=2000), strict=True):
        window.learn_one({"amount": float(a), "hour": float(h), "empty": 1.0})
    report = profile.compare(window)
    assert report.unchecked == {"empty": "no_reference_values"}
    assert {f.feature for f in report.features} == {"amount", "hour"}
    assert report.drifted() == ["amount"]


def test_an_unchecked_feature_survives_the_json_round_trip_and_an_older_profile_without_any_loads(
    tmp_path: Path,
) -> None:
    profile = ReferenceProfile.fit("m", {"x": np.arange(100.0), "y": [np.inf, np.nan]})
    profile.save(tmp_path / "profile.json")
    assert load(tmp_path / "profile.json").unchecked == {"y": "no_reference_values"}
    older = {k: v for k, v in _profile().to_dict().items() if k != "unchecked"}
    assert ReferenceProfile.from_dict(older).unchecked == {}
