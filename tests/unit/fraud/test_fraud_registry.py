from pathlib import Path

import numpy as np

from streamsense.models.fraud.artifact import DISTANCE_GRID, SAMPLE_FILE, feature_sample, list_versions, load, save
from streamsense.models.fraud.features import NO_DISTANCE
from streamsense.models.fraud.registry import FraudModelRegistry


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_save_writes_increasing_versions_and_load_round_trips(tmp_path: Path, tiny_artifact, tiny_xy) -> None:
    first = save(tiny_artifact, tmp_path)
    second = save(tiny_artifact, tmp_path)
    assert (first.name, second.name) == ("v0001", "v0002")
    loaded = load(second)
    assert loaded.version == 2 and loaded.names == tiny_artifact.names and loaded.blend == tiny_artifact.blend
    X = tiny_xy[0][:10]
    assert (loaded.compiled.margin_and_contribs(X)[0] == tiny_artifact.compiled.margin_and_contribs(X)[0]).all()


def test_registry_hot_swaps_a_newer_version_after_the_check_interval(tmp_path: Path, tiny_artifact) -> None:
    clock = FakeClock()
    registry = FraudModelRegistry(tmp_path, check_every_s=10.0, clock=clock)
    assert registry.current() is None
    save(tiny_artifact, tmp_path)
    clock.now = 10.0
    assert registry.current().version == 1
    save(tiny_artifact, tmp_path)
    clock.now = 15.0
    assert registry.current().version == 1  # not checked again yet
    clock.now = 20.0
    assert registry.current().version == 2


def test_registry_ignores_unfinished_and_broken_versions(tmp_path: Path, tiny_artifact) -> None:
    save(tiny_artifact, tmp_path)
    (tmp_path / ".staging-abc").mkdir()
    (tmp_path / "v0002").mkdir()  # no meta.json yet: still being written
    broken = tmp_path / "v0003"
    broken.mkdir()
    (broken / "meta.json").write_text("{not json")
    assert list_versions(tmp_path) == [1, 3]
    registry = FraudModelRegistry(tmp_path, check_every_s=0.0)
    assert registry.current().version == 1


def test_a_row_without_coordinates_gets_its_mean_over_the_training_distances_once_a_sample_is_saved(
    tmp_path: Path, tiny_artifact, tiny_xy
) -> None:
    X = tiny_xy[0]
    column = tiny_artifact.names.index("distance")
    loaded = load(save(tiny_artifact, tmp_path / "sampled", {SAMPLE_FILE: feature_sample(X, seed=0)}))
    unsampled = load(save(tiny_artifact, tmp_path / "unsampled"))
    assert len(loaded.distances) == DISTANCE_GRID and len(unsampled.distances) == 0
    rows = X[:3].copy()
    rows[1, column] = NO_DISTANCE
    margins, contribs = loaded.margin_and_contribs(rows)
    at_each = np.repeat(rows[1:2], DISTANCE_GRID, axis=0)
    at_each[:, column] = loaded.distances
    assert np.isclose(margins[1], loaded.compiled.margin_and_contribs(at_each)[0].mean())
    assert np.allclose(contribs.sum(axis=1) + loaded.compiled.bias, margins)
    walked = loaded.compiled.margin_and_contribs(rows)[0]
    assert (margins[[0, 2]] == walked[[0, 2]]).all(), "rows with a distance are walked as they are"
    assert (unsampled.margin_and_contribs(rows)[0] == walked).all(), "a version without a sample walks the sentinel"
