from pathlib import Path

import numpy as np
import pytest

from streamsense.datasets.ulb import load_ulb

FIXTURE = Path(__file__).parents[2] / "fixtures" / "fraud" / "creditcard_tiny.csv"


def test_ulb_loader_parses_time_components_amount_and_class() -> None:
    data = load_ulb(FIXTURE)
    assert len(data) == 6
    assert data.features.shape == (6, 28)
    np.testing.assert_allclose(data.amount, [149.62, 2.69, 378.66, 1.0, 93.2, 529.0])
    assert data.is_fraud.tolist() == [False, False, False, True, False, True]
    np.testing.assert_array_equal(data.time_s, [0, 0, 1, 2, 7, 9])


def test_ulb_time_split_keeps_earlier_rows_for_training() -> None:
    train, test = load_ulb(FIXTURE).time_split(0.5)
    data = load_ulb(FIXTURE)
    assert data.time_s[train].max() < data.time_s[test].min()


def test_ulb_loader_refuses_other_layouts(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="expected columns"):
        load_ulb(bad)
