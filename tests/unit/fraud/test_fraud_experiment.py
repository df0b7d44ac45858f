import pytest

from streamsense.models.fraud.artifact import TrainingChoices
from streamsense.models.fraud.experiment import ExperimentConfig, Periods, run
from streamsense.models.fraud.xgb_model import XGBParams


def _report(cold_share: float) -> dict:
    config = ExperimentConfig(
        n_customers=600,
        n_terminals=1_200,
        periods=Periods(warmup=10, train=21, gap=7, validation=10, test=10),
        xgb=XGBParams(n_estimators=60),
        choices=TrainingChoices(gan="off", cold_share=cold_share),
    )
    return run(config).report


@pytest.fixture(scope="module")
def reports() -> dict[float, dict]:
    return {share: _report(share) for share in (0.0, 0.2)}


def test_the_booster_learns_cold_copies_of_the_chosen_share_of_training_rows(reports) -> None:
    assert reports[0.0]["data"]["n_train_cold_copies"] == 0
    data = reports[0.2]["data"]
    assert 0.3 * data["n_train"] < data["n_train_cold_copies"] < 0.5 * data["n_train"]


def test_cold_copies_teach_the_booster_to_catch_frauds_on_new_cards(reports) -> None:
    before, after = reports[0.0]["cold_start"], reports[0.2]["cold_start"]
    for kind in ("new_account", "new_account_and_terminal"):
        assert after[kind]["average_precision"] > before[kind]["average_precision"] + 0.1
        assert after[kind]["recall_by_scenario"]["amount"] > before[kind]["recall_by_scenario"]["amount"] + 0.5
    assert after["as_seen"]["average_precision"] == reports[0.2]["combined"]["average_precision"]
