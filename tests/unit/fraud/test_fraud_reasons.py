import numpy as np
import pytest

from streamsense.models.fraud.xgb_model import CompiledTrees, contributions, margin


def test_exact_shap_contributions_plus_bias_sum_to_the_margin(tiny_artifact, tiny_xy) -> None:
    X = tiny_xy[0][:50]
    shap = contributions(tiny_artifact.booster, X)
    np.testing.assert_allclose(shap.sum(axis=1), margin(tiny_artifact.booster, X), atol=1e-4)


def test_compiled_tree_walk_reproduces_xgboost_margin_and_path_contributions(tiny_artifact, tiny_xy) -> None:
    X = tiny_xy[0][:50].copy()
    X[:3, 0] = np.nan  # missing values follow each split's default direction
    compiled = CompiledTrees(tiny_artifact.booster)
    m, contribs = compiled.margin_and_contribs(X)
    np.testing.assert_allclose(m, margin(tiny_artifact.booster, X), atol=1e-4)
    np.testing.assert_allclose(contribs.sum(axis=1) + compiled.bias, m, atol=1e-9)
    saabas = contributions(tiny_artifact.booster, X, approx=True)
    np.testing.assert_allclose(contribs, saabas[:, :-1], atol=1e-4)
    np.testing.assert_allclose(compiled.bias, saabas[0, -1], atol=1e-4)


def test_single_row_walk_equals_batch_walk(tiny_artifact, tiny_xy) -> None:
    compiled = CompiledTrees(tiny_artifact.booster)
    X = tiny_xy[0][:5]
    m, c = compiled.margin_and_contribs(X)
    m1, c1 = compiled.margin_and_contribs(X[2:3])
    assert m1[0] == pytest.approx(m[2], abs=1e-9)
    np.testing.assert_allclose(c1[0], c[2], atol=1e-9)
    X_nan = X[2:3].copy()
    X_nan[0, 0] = np.nan
    np.testing.assert_allclose(compiled.margin_and_contribs(X_nan)[0], margin(tiny_artifact.booster, X_nan), atol=1e-4)
