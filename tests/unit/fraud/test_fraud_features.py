import json
import math

import numpy as np
import pytest

from streamsense.models.fraud.features import (
    DAY_S,
    FeatureConfig,
    FraudFeaturePipeline,
    new_key_state,
)

T0 = 20_000 * DAY_S + 12 * 3600  # noon on some UTC day


def _features(pipe: FraudFeaturePipeline, ts: float, amount: float, acct: dict, term: dict) -> dict[str, float]:
    return dict(zip(pipe.names, pipe.transform_one(ts, amount, acct, term), strict=True))


def test_config_comes_from_a_plain_dict_and_rejects_unknown_ops() -> None:
    cfg = FeatureConfig.from_dict({"numeric_ops": ["log", "binning(n=4)"], "categorical_ops": ["target_encoding"]})
    pipe = FraudFeaturePipeline(cfg.to_dict())
    assert "amount_log" in pipe.names and "amount_bin4" in pipe.names
    assert "amount_sqrt" not in pipe.names and "account_id_freq" not in pipe.names
    with pytest.raises(ValueError, match="unknown numeric op"):
        FeatureConfig.from_dict({"numeric_ops": ["cube"]})
    with pytest.raises(ValueError, match="unknown categorical op"):
        FeatureConfig.from_dict({"categorical_ops": ["one_hot"]})


def test_log_and_sqrt_ops_transform_the_amount() -> None:
    pipe = FraudFeaturePipeline()
    f = _features(pipe, T0, 99.0, new_key_state(), new_key_state())
    assert f["amount_log"] == pytest.approx(math.log1p(99.0))
    assert f["amount_sqrt"] == pytest.approx(math.sqrt(99.0))


def test_binning_uses_streaming_quantiles_of_amounts_seen_so_far() -> None:
    pipe = FraudFeaturePipeline({"numeric_ops": ["binning(n=4)"]})
    acct, term = new_key_state(), new_key_state()
    assert _features(pipe, T0, 50.0, acct, term)["amount_bin4"] == 0.0
    for i in range(1000):
        pipe.learn_one(T0 + i, float(i % 100 + 1), acct, term)
    bins = [_features(pipe, T0, a, acct, term)["amount_bin4"] for a in (5.0, 40.0, 60.0, 95.0)]
    assert bins == [0.0, 1.0, 2.0, 3.0]


def test_target_encoding_is_smoothed_and_moves_only_with_arrived_labels() -> None:
    pipe = FraudFeaturePipeline({"te_smoothing": 10.0})
    acct, term, other = new_key_state(), new_key_state(), new_key_state()
    pipe.learn_one(T0, 10.0, acct, term)
    assert _features(pipe, T0 + 1, 10.0, acct, term)["account_id_te"] == 0.0
    for _ in range(9):
        pipe.learn_label(T0 + 2, False, other, other)
    pipe.learn_label(T0 + 2, True, acct, term)
    prior = 1 / 10
    f = _features(pipe, T0 + 3, 10.0, acct, term)
    assert f["account_id_te"] == pytest.approx((1 + 10 * prior) / (1 + 10))
    assert f["terminal_id_te"] == pytest.approx((1 + 10 * prior) / (1 + 10))


def test_frequency_encoding_is_the_keys_share_of_recent_transactions() -> None:
    pipe = FraudFeaturePipeline()
    acct, term, other = new_key_state(), new_key_state(), new_key_state()
    for i in range(3):
        pipe.learn_one(T0 + i, 10.0, acct, term)
    pipe.learn_one(T0 + 5, 10.0, other, other)
    f = _features(pipe, T0 + 10, 10.0, acct, term)
    assert f["account_id_freq"] == pytest.approx(3 / 4)
    assert f["terminal_id_freq"] == pytest.approx(3 / 4)


def test_aggregates_count_mean_max_and_night_share_per_window() -> None:
    pipe = FraudFeaturePipeline()
    acct, term = new_key_state(), new_key_state()
    pipe.learn_one(T0 - 10 * DAY_S, 100.0, acct, term)  # 10 days ago: only in the 30-day window
    pipe.learn_one(T0 - 3 * DAY_S - 11 * 3600, 30.0, acct, term)  # 01:00 three days ago: a night transaction
    pipe.learn_one(T0 - 3600, 10.0, acct, term)  # today
    f = _features(pipe, T0, 20.0, acct, term)
    assert (f["account_count_1d"], f["account_count_7d"], f["account_count_30d"]) == (1, 2, 3)
    assert f["account_mean_amount_7d"] == pytest.approx(20.0)
    assert f["account_max_amount_7d"] == 30.0 and f["account_max_amount_30d"] == 100.0
    assert f["account_night_share_7d"] == pytest.approx(0.5) and f["account_night_share_1d"] == 0.0
    assert f["amount_to_account_mean_30d"] == pytest.approx(20.0 / (140.0 / 3))
    assert f["terminal_count_30d"] == 3


def test_terminal_fraud_rate_counts_labels_arrived_in_the_window() -> None:
    pipe = FraudFeaturePipeline()
    acct, term = new_key_state(), new_key_state()
    pipe.learn_label(T0 - 20 * DAY_S, True, acct, term)
    pipe.learn_label(T0 - DAY_S, True, acct, term)
    pipe.learn_label(T0 - DAY_S, False, acct, term)
    pipe.learn_label(T0 - DAY_S, False, acct, term)
    f = _features(pipe, T0, 20.0, acct, term)
    assert f["terminal_fraud_rate_1d"] == 0.0
    assert f["terminal_fraud_rate_7d"] == pytest.approx(1 / 3)
    assert f["terminal_fraud_rate_30d"] == pytest.approx(2 / 4)


def test_key_state_is_json_round_trippable_and_bounded() -> None:
    pipe = FraudFeaturePipeline()
    acct, term = new_key_state(), new_key_state()
    for day in range(200):
        pipe.learn_one(T0 + day * DAY_S, 5.0, acct, term)
        pipe.learn_label(T0 + day * DAY_S, day % 10 == 0, acct, term)
    assert len(acct["d"]) <= 30 and len(acct["ld"]) <= 30
    restored = json.loads(json.dumps(acct))
    ts = T0 + 200 * DAY_S
    assert pipe.transform_one(ts, 7.0, restored, term) == pipe.transform_one(ts, 7.0, acct, term)
    clone = FraudFeaturePipeline.from_dict(json.loads(json.dumps(pipe.to_dict())))
    assert clone.transform_one(ts, 7.0, acct, term) == pipe.transform_one(ts, 7.0, acct, term)


def test_transform_one_never_writes_state() -> None:
    pipe = FraudFeaturePipeline()
    acct, term = new_key_state(), new_key_state()
    pipe.learn_one(T0, 5.0, acct, term)
    before = json.dumps([acct, term, pipe.global_state])
    pipe.transform_one(T0 + 1, 9.0, acct, term)
    assert json.dumps([acct, term, pipe.global_state]) == before


def test_as_new_gives_what_empty_states_give_for_the_account_and_for_both_keys() -> None:
    pipe = FraudFeaturePipeline()
    acct, term = new_key_state(), new_key_state()
    for day in range(12):
        ts = T0 + day * DAY_S
        pipe.learn_one(ts, 40.0 + day, acct, term)
        pipe.learn_label(ts + 3600, day % 4 == 0, acct, term)
    ts, coords = T0 + 12 * DAY_S, (1.0, 2.0, 4.0, 6.0)
    row = pipe.transform_one(ts, 260.0, acct, term, coords)
    new_account = pipe.transform_one(ts, 260.0, new_key_state(), term, coords)
    new_both = pipe.transform_one(ts, 260.0, new_key_state(), new_key_state(), coords)
    assert new_account != row and new_both != new_account
    assert pipe.as_new(row).tolist() == new_account
    assert pipe.as_new(row, terminal_too=True).tolist() == new_both
    assert pipe.as_new([row, row], terminal_too=True).tolist() == [new_both, new_both]


def test_a_late_transaction_lands_in_its_own_day_and_one_older_than_every_window_changes_nothing() -> None:
    pipe = FraudFeaturePipeline()
    acct, term = new_key_state(), new_key_state()
    for day in (0, 1, 3, 4):
        pipe.learn_one(T0 + day * DAY_S, 10.0, acct, term)
    pipe.learn_one(T0 + 1 * DAY_S, 30.0, acct, term)
    pipe.learn_one(T0 + 2 * DAY_S, 50.0, acct, term)
    assert acct["d"] == [acct["d"][0] + k for k in range(5)] and acct["c"] == [1, 2, 1, 1, 1]
    assert acct["s"][1:3] == [40.0, 50.0] and acct["m"][1:3] == [30.0, 50.0]
    assert pipe.global_state["c"][-5:] == [1, 2, 1, 1, 1]
    ordered_account, ordered_terminal = new_key_state(), new_key_state()
    for day, amount in ((0, 10.0), (1, 10.0), (1, 30.0), (2, 50.0), (3, 10.0), (4, 10.0)):
        pipe.learn_key(T0 + day * DAY_S, amount, ordered_account)
        pipe.learn_key(T0 + day * DAY_S, amount, ordered_terminal)
    now = T0 + 4 * DAY_S + 60
    assert pipe.transform_one(now, 20.0, acct, term) == pipe.transform_one(now, 20.0, ordered_account, ordered_terminal)
    before = json.dumps(acct)
    pipe.learn_key(T0 - 40 * DAY_S, 99.0, acct)
    assert json.dumps(acct) == before


def test_a_late_transaction_sees_only_the_days_up_to_its_own_not_the_transactions_and_labels_after_it() -> None:
    pipe = FraudFeaturePipeline()
    acct, term = new_key_state(), new_key_state()
    pipe.learn_one(T0, 40.0, acct, term)
    for minute in range(5):
        pipe.learn_one(T0 + 20 * DAY_S + 60 * minute, 100.0, acct, term)
    pipe.learn_label_key(T0 + 21 * DAY_S, True, acct)
    late = _features(pipe, T0 + 2 * DAY_S, 100.0, acct, term)
    assert (late["account_count_1d"], late["account_count_7d"], late["account_count_30d"]) == (0, 1, 1)
    assert late["account_mean_amount_30d"] == 40.0 and late["account_fraud_rate_30d"] == 0.0
    assert late["account_id_freq"] == 1.0, "the global count is bounded at its day too"
    newest = _features(pipe, T0 + 21 * DAY_S, 100.0, acct, term)
    assert (newest["account_count_30d"], newest["account_fraud_rate_1d"]) == (6, 1.0)


PER_DAY, KEYS = 200, 20


def _day_of_traffic(
    pipes: list[FraudFeaturePipeline], day: int, states: dict[int, dict], learn_global: bool = True
) -> list[list[float]]:
    """``PER_DAY`` transactions spread evenly over ``day``, key ``k % KEYS`` (its own account and terminal), key
    ``k`` to pipeline ``k % len(pipes)``: each row's (account, terminal) frequency, taken before the transaction."""
    out = []
    for k in range(PER_DAY):
        ts, key = day * DAY_S + (k + 0.5) * DAY_S / PER_DAY, k % KEYS
        pipe = pipes[key % len(pipes)]
        acct, term = states.setdefault(key, new_key_state()), states.setdefault(KEYS + key, new_key_state())
        f = _features(pipe, ts, 10.0, acct, term)
        out.append([f["account_id_freq"], f["terminal_id_freq"]])
        pipe.learn_key(ts, 10.0, acct)
        pipe.learn_key(ts, 10.0, term)
        if learn_global:
            pipe.learn_global(ts, 10.0)
    return out


def _trained(days: range) -> tuple[FraudFeaturePipeline, np.ndarray]:
    """A pipeline that saw ``days`` of traffic in order, as training does, and the frequencies it gave."""
    pipe, states = FraudFeaturePipeline(), {}
    rows = [row for day in days for row in _day_of_traffic([pipe], day, states)]
    return pipe, np.asarray(rows)


def _resumed(pipe: FraudFeaturePipeline) -> FraudFeaturePipeline:
    """The pipeline's checkpoint as a starting worker takes it up (``FraudScorer.from_artifacts``)."""
    restored = FraudFeaturePipeline.from_dict(json.loads(json.dumps(pipe.to_dict())))
    restored.resume()
    return restored


def test_workers_each_told_their_share_of_the_partitions_give_the_frequencies_of_one_worker_that_sees_all() -> None:
    one = _trained(range(40))[1]
    halves = [FraudFeaturePipeline(), FraudFeaturePipeline()]
    for pipe in halves:
        pipe.share = 0.5
    states: dict[int, dict] = {}
    two = np.asarray([row for day in range(40) for row in _day_of_traffic(halves, day, states)])
    assert two[PER_DAY:] == pytest.approx(one[PER_DAY:], rel=0.02)  # apart by a transaction or so of today's
    assert two[-PER_DAY:] == pytest.approx(one[-PER_DAY:], rel=1e-3)


def test_a_worker_resumed_from_a_trained_state_two_years_later_gives_the_frequencies_training_gave() -> None:
    trained, training_rows = _trained(range(60))
    worker, states = _resumed(trained), {}
    for day in range(730, 760):  # the key states (tables, kept by whoever owned the keys) saw what the worker did not
        _day_of_traffic([worker], day, states, learn_global=False)
    first_day = np.asarray(_day_of_traffic([worker], 760, states))
    assert first_day == pytest.approx(training_rows[30 * PER_DAY : 31 * PER_DAY], rel=0.01)
    later = np.asarray([row for day in range(761, 790) for row in _day_of_traffic([worker], day, states)])
    assert later == pytest.approx(training_rows[31 * PER_DAY :], rel=0.01)


def test_a_resumed_worker_reads_the_plain_ratio_once_it_has_observed_the_whole_window() -> None:
    worker, states = _resumed(_trained(range(60))[0]), {}
    for day in range(730, 760):
        _day_of_traffic([worker], day, states, learn_global=False)
    for day in range(760, 791):
        _day_of_traffic([worker], day, states)
    f = _features(worker, 791 * DAY_S, 10.0, states[0], states[KEYS])  # the window's 29 days before today
    assert f["terminal_id_freq"] == f["terminal_count_30d"] / (29 * PER_DAY) == pytest.approx(1 / KEYS)


def test_a_pipeline_that_is_not_resumed_divides_by_what_it_observed_as_before() -> None:
    pipe, rows = _trained(range(3))
    assert pipe.global_state["rate"] is None
    assert rows[1].tolist() == [0.0, 0.0] and rows[KEYS + 1].tolist() == [1 / (KEYS + 1), 1 / (KEYS + 1)]


def test_resuming_where_the_traffic_goes_on_without_a_break_changes_the_frequencies_by_no_more_than_a_transaction() -> (
    None
):
    straight, straight_rows = _trained(range(40))
    resumed, states = _resumed(_trained(range(30))[0]), {}
    for day in range(30):  # the key states as the run that was checkpointed left them
        _day_of_traffic([FraudFeaturePipeline()], day, states)
    rows = np.asarray([row for day in range(30, 40) for row in _day_of_traffic([resumed], day, states)])
    assert rows == pytest.approx(straight_rows[30 * PER_DAY :], rel=1.5 / (29 * PER_DAY))
    assert straight.global_state["rate"] is None


def _two_years_on(worker: FraudFeaturePipeline) -> np.ndarray:
    """The worker's frequencies on the first day of traffic two years after a 60-day training state, the key states
    holding the 30 days before it (the worker did not see those)."""
    states: dict[int, dict] = {}
    for day in range(730, 760):
        _day_of_traffic([worker], day, states, learn_global=False)
    return np.asarray(_day_of_traffic([worker], 760, states))


def test_a_global_state_saved_before_first_last_and_the_rate_were_kept_still_loads_and_resumes() -> None:
    trained, training_rows = _trained(range(60))
    old = json.loads(json.dumps(trained.to_dict()))
    for key in ("first", "last", "rate", "held"):
        del old["global_state"][key]
    old["global_state"]["c"] = [int(c) for c in old["global_state"]["c"]]
    restored = FraudFeaturePipeline.from_dict(old)
    g = restored.global_state
    assert (g["first"], g["last"], g["rate"]) == (30 * DAY_S, 60 * DAY_S, None)  # the days it holds
    restored.resume()
    assert g["rate"] == pytest.approx(PER_DAY)
    assert _two_years_on(restored) == pytest.approx(training_rows[30 * PER_DAY : 31 * PER_DAY], rel=0.01)


def test_a_global_state_saved_with_unseen_spans_takes_their_rate_and_resumes() -> None:
    trained, training_rows = _trained(range(60))
    saved = json.loads(json.dumps(trained.to_dict()))
    for key in ("first", "rate", "held"):
        del saved["global_state"][key]
    saved["global_state"]["gaps"] = [[saved["global_state"]["last"], None, 150.0]]  # resumed, then saved
    restored = FraudFeaturePipeline.from_dict(saved)
    assert "gaps" not in restored.global_state and restored.global_state["rate"] == 150.0
    restored.resume()  # the window it holds is all observed: the rate comes from its counts
    assert restored.global_state["rate"] == pytest.approx(PER_DAY, rel=1e-3)
    assert _two_years_on(restored) == pytest.approx(training_rows[30 * PER_DAY : 31 * PER_DAY], rel=0.01)


def test_a_straggler_dated_before_the_checkpoints_newest_event_learned_first_leaves_the_trained_scale() -> None:
    trained, training_rows = _trained(range(60))
    worker = _resumed(trained)
    worker.learn_one(30 * DAY_S + 5, 10.0, new_key_state(), new_key_state())
    assert _two_years_on(worker) == pytest.approx(training_rows[30 * PER_DAY : 31 * PER_DAY], rel=0.01)


def test_a_transaction_just_after_the_checkpoint_then_the_bulk_much_later_leaves_the_trained_scale() -> None:
    trained, training_rows = _trained(range(60))
    worker = _resumed(trained)
    worker.learn_one(60 * DAY_S + 60, 10.0, new_key_state(), new_key_state())
    assert _two_years_on(worker) == pytest.approx(training_rows[30 * PER_DAY : 31 * PER_DAY], rel=0.01)


def test_a_worker_snapshot_resumed_a_year_later_keeps_the_trained_scale() -> None:
    trained, training_rows = _trained(range(60))
    worker, states = _resumed(trained), {}
    for day in range(730, 760):
        _day_of_traffic([worker], day, states, learn_global=False)
    _day_of_traffic([worker], 760, states)  # one day observed, then a snapshot; the next start is a year on
    again = _resumed(worker)
    assert again.global_state["rate"] == pytest.approx(PER_DAY, rel=1e-3)
    for day in range(1100, 1130):
        _day_of_traffic([again], day, states, learn_global=False)
    rows = np.asarray([row for day in range(1130, 1135) for row in _day_of_traffic([again], day, states)])
    assert rows == pytest.approx(training_rows[30 * PER_DAY : 35 * PER_DAY], rel=0.01)


def test_a_checkpoint_of_an_hour_takes_the_rate_of_that_hour_not_of_the_day_since_midnight() -> None:
    pipe, acct, term = FraudFeaturePipeline(), new_key_state(), new_key_state()
    for k in range(101):  # 2,400 a day, one every 36 s, from 23:00 to midnight
        pipe.learn_one(100 * DAY_S + 23 * 3600 + 36 * k, 10.0, acct, term)
    worker = _resumed(pipe)
    assert worker.global_state["rate"] == pytest.approx(2400, rel=0.02)  # was 101 a day, from midnight


def test_a_checkpoint_spanning_under_an_hour_gives_no_rate_and_the_plain_ratio() -> None:
    pipe, acct, term = FraudFeaturePipeline(), new_key_state(), new_key_state()
    pipe.learn_one(100 * DAY_S + 1, 10.0, acct, term)  # one transaction at 00:00:01
    worker = _resumed(pipe)
    assert worker.global_state["rate"] is None  # was 86,400 a day
    worker.learn_one(101 * DAY_S, 10.0, new_key_state(), new_key_state())
    assert _features(worker, 101 * DAY_S + 60, 10.0, acct, term)["account_id_freq"] == 1 / 2


def test_traffic_dated_before_the_checkpoints_span_gets_frequencies_on_the_trained_scale() -> None:
    trained, training_rows = _trained(range(100, 160))
    worker, states = _resumed(trained), {}
    for day in range(40, 70):
        _day_of_traffic([worker], day, states, learn_global=False)
    rows = np.asarray([row for day in range(70, 80) for row in _day_of_traffic([worker], day, states)])
    assert rows == pytest.approx(training_rows[30 * PER_DAY : 40 * PER_DAY], rel=0.01)  # were 0.0


def test_a_replay_of_the_dates_the_checkpoint_counted_is_not_counted_twice() -> None:
    trained, training_rows = _trained(range(60))
    worker, states = _resumed(trained), {}
    rows = np.asarray([row for day in range(60) for row in _day_of_traffic([worker], day, states)])
    # the checkpoint's days are whole where training had today so far: within a day's traffic of the window's
    assert rows[30 * PER_DAY :] == pytest.approx(training_rows[30 * PER_DAY :], rel=1 / 29)
