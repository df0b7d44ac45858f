"""Suthaharan CSV parsing on a small excerpt of the real single-hop data (CC BY 4.0), and cache handling."""

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from streamsense.datasets.suthaharan import START_TIME, csv_path, load, parse_csv

FIXTURE = Path(__file__).parent / "fixtures" / "suthaharan_excerpt.csv"


def test_parse_sorts_by_mote_then_reading_and_keeps_labels() -> None:
    network = parse_csv(FIXTURE, "single-hop")
    assert len(network.reading) == 16
    assert list(network.mote_id[:10]) == [1] * 10 and list(network.mote_id[10:]) == [4] * 6
    assert np.all(np.diff(network.reading[:10]) == 1)
    assert network.label.sum() == 6 and network.label[network.reading == 2344][0] == 1
    assert network.values[0].tolist() == [44.78, 27.74]
    assert network.indoor[0] == 1 and network.indoor[-1] == 0


def test_readings_are_schema_valid_and_five_seconds_apart() -> None:
    network = parse_csv(FIXTURE, "single-hop")
    readings = list(network.readings())
    assert readings[0].device_id == "suthaharan-single-hop-mote1"
    assert readings[0].values == {"humidity": 44.78, "temperature": 27.74}
    assert readings[1].event_time - readings[0].event_time == timedelta(seconds=5)
    assert readings[10].event_time == START_TIME
    assert len({r.event_id for r in readings}) == len(readings)


def test_load_without_fetch_names_the_setup_command(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="streamsense data suthaharan"):
        load(tmp_path, "single-hop")


def test_load_reads_the_cached_csv(tmp_path: Path) -> None:
    target = csv_path(tmp_path, "multi-hop")
    target.parent.mkdir(parents=True)
    target.write_bytes(FIXTURE.read_bytes())
    assert load(tmp_path, "multi-hop").name == "multi-hop"
