"""How often each drift statistic crosses its threshold on synthetic mean shifts of a normal feature.

Shift 0 gives the false-alarm rate of a threshold at a window size; larger shifts give its power. The
thresholds are conventions, so this is what tells whether they suit the window sizes the workers use.
"""

import numpy as np

from streamsense.models.drift.adversarial import ADVERSARIAL_AUC_ALERT, AdversarialValidator
from streamsense.models.drift.ks import KS_PVALUE_ALERT, ks_from_counts, ks_from_samples
from streamsense.models.drift.psi import (
    PSI_ALERT,
    PSI_WARN,
    bin_counts,
    expected_psi_without_drift,
    psi_from_counts,
    psi_level,
    quantile_edges,
)

# Fixed buckets like an Elasticsearch histogram aggregation with interval 0.25 over [-5, 5].
HISTOGRAM_EDGES = np.arange(-4.75, 5.0, 0.25)


def statistic_calibration(
    sizes: list[int], shifts: list[float], trials: int, seed: int = 0
) -> list[dict[str, float | int]]:
    """Per (window size, shift in standard deviations): mean PSI, the rate each threshold fires on the value alone,
    and the rate of the levels a one-feature report gives (``psi_level``: the thresholds where the counts differ beyond
    chance; a report over many features also Holm-adjusts)."""
    rows: list[dict[str, float | int]] = []
    for n in sizes:
        for shift in shifts:
            rng = np.random.default_rng([seed, n, round(shift * 1000)])
            psi, levels, ks_p, ks_counts_p = [], [], [], []
            for _ in range(trials):
                ref, cur = rng.normal(size=n), rng.normal(loc=shift, size=n)
                edges = quantile_edges(ref)
                ref_counts, cur_counts = bin_counts(ref, edges), bin_counts(cur, edges)
                psi.append(psi_from_counts(ref_counts, cur_counts))
                levels.append(psi_level(psi[-1], ref_counts, cur_counts))
                ks_p.append(ks_from_samples(ref, cur).pvalue)
                counts = ks_from_counts(bin_counts(ref, HISTOGRAM_EDGES), bin_counts(cur, HISTOGRAM_EDGES))
                ks_counts_p.append(counts.pvalue)
            psi_arr = np.array(psi)
            rows.append(
                {
                    "n": n,
                    "shift_sd": shift,
                    "trials": trials,
                    "mean_psi": float(psi_arr.mean()),
                    "psi_noise_floor": expected_psi_without_drift(10, n, n),
                    "psi_warn_rate": float(np.mean(psi_arr >= PSI_WARN)),
                    "psi_alert_rate": float(np.mean(psi_arr >= PSI_ALERT)),
                    "psi_level_warn_rate": float(np.mean([level != "ok" for level in levels])),
                    "psi_level_alert_rate": float(np.mean([level == "alert" for level in levels])),
                    "ks_alert_rate": float(np.mean(np.array(ks_p) < KS_PVALUE_ALERT)),
                    "ks_counts_alert_rate": float(np.mean(np.array(ks_counts_p) < KS_PVALUE_ALERT)),
                }
            )
    return rows


def adversarial_calibration(
    n: int, shifts: list[float], trials: int, n_features: int = 4, seed: int = 0
) -> list[dict[str, float | int | str]]:
    """Per classifier and shift of one feature out of ``n_features``: mean AUC, alert rate, how often it is named."""
    names = [f"f{i}" for i in range(n_features)]
    rows: list[dict[str, float | int | str]] = []
    for classifier in ("hgb", "logistic"):
        validator = AdversarialValidator(n_splits=3, max_iter=50, n_repeats=2, seed=seed, classifier=classifier)
        for shift in shifts:
            rng = np.random.default_rng([seed, n, round(shift * 1000)])
            aucs, named = [], []
            for _ in range(trials):
                ref, cur = rng.normal(size=(n, n_features)), rng.normal(size=(n, n_features))
                cur[:, 0] += shift
                result = validator.evaluate(ref, cur, names)
                aucs.append(result.auc)
                named.append(result.top_features(k=1) == ["f0"])
            rows.append(
                {
                    "classifier": classifier,
                    "n": n,
                    "shift_sd": shift,
                    "trials": trials,
                    "mean_auc": float(np.mean(aucs)),
                    "auc_alert_rate": float(np.mean(np.array(aucs) >= ADVERSARIAL_AUC_ALERT)),
                    "shifted_feature_named_rate": float(np.mean(named)),
                }
            )
    return rows
