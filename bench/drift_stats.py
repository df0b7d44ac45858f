"""Per-call cost of the drift statistics and detectors an agent would run per event or per window; prints JSON."""

import json
import time
from collections.abc import Callable

import numpy as np

from streamsense.models.drift.adversarial import AdversarialValidator
from streamsense.models.drift.detectors import AdwinDetector, detector_from_dict
from streamsense.models.drift.jensen_shannon import js_distance
from streamsense.models.drift.ks import ks_from_counts
from streamsense.models.drift.profile import ReferenceProfile
from streamsense.models.drift.psi import psi_from_counts, psi_from_samples


def _per_call_us(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    """Time each operation on fixed, seeded inputs."""
    rng = np.random.default_rng(0)
    ref_counts, cur_counts = rng.integers(50, 500, size=40), rng.integers(50, 500, size=40)
    ref_sample, cur_sample = rng.normal(size=10_000), rng.normal(loc=0.2, size=10_000)
    cats_ref = {f"c{i}": int(v) for i, v in enumerate(rng.integers(1, 100, size=20))}
    cats_cur = {f"c{i}": int(v) for i, v in enumerate(rng.integers(1, 100, size=20))}
    errors = (rng.random(200_000) < 0.1).astype(float)

    detector = AdwinDetector()
    start = time.perf_counter()
    for error in errors:
        detector.update(error)
    adwin_update_us = (time.perf_counter() - start) / errors.size * 1e6
    state = detector.to_dict()

    x_ref, x_cur = rng.normal(size=(2000, 8)), rng.normal(size=(2000, 8))
    x_cur[:, 3] += 0.5
    start = time.perf_counter()
    adversarial = AdversarialValidator().evaluate(x_ref, x_cur)
    adversarial_s = time.perf_counter() - start

    profile = ReferenceProfile.fit("bench", {f"f{i}": x_ref[:, i] for i in range(8)})
    window = profile.new_window()
    events = [{f"f{i}": float(v) for i, v in enumerate(row)} for row in x_cur]
    start = time.perf_counter()
    for event in events:
        window.learn_one(event)
    window_learn_us = (time.perf_counter() - start) / len(events) * 1e6

    result = {
        "psi_from_counts_40_bins_us": _per_call_us(lambda: psi_from_counts(ref_counts, cur_counts), 5000),
        "ks_from_counts_40_buckets_us": _per_call_us(lambda: ks_from_counts(ref_counts, cur_counts), 2000),
        "psi_from_samples_10k_vs_10k_us": _per_call_us(lambda: psi_from_samples(ref_sample, cur_sample), 200),
        "js_distance_20_categories_us": _per_call_us(lambda: js_distance(cats_ref, cats_cur), 5000),
        "adwin_update_us": adwin_update_us,
        "adwin_events": int(errors.size),
        "adwin_state_json_bytes": len(json.dumps(state)),
        "adwin_to_dict_us": _per_call_us(detector.to_dict, 2000),
        "adwin_from_dict_us": _per_call_us(lambda: detector_from_dict(state), 2000),
        "feature_window_learn_one_8_features_us": window_learn_us,
        "profile_compare_8_features_us": _per_call_us(lambda: profile.compare(window), 200),
        "adversarial_2000x8_per_window_s": adversarial_s,
        "adversarial_auc": adversarial.auc,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
