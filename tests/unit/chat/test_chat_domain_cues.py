"""The domain-cue analysis behind ``eval intent``'s ceiling: which sentences name no domain, and the oracles."""

from streamsense.datasets.multiwoz import Example
from streamsense.models.chat.evaluation import domain_cue_analysis, domain_cues

LEXICON = {
    "hotel-name": ["acorn guest house"],
    "restaurant-food": ["italian"],
    "restaurant-area": ["north"],
    "hotel-area": ["north"],
    "taxi-dest": ["golden wok"],
}


def _examples(rows: list[tuple[str, str]]) -> list[Example]:
    return [Example(text=text, intent=intent, template=text) for text, intent in rows]


TRAIN = _examples(
    [("I need a hotel", "Hotel-Inform")] * 10
    + [("a restaurant please", "Restaurant-Inform")] * 10
    + [("what is the address", "Attraction-Request")] * 3
    + [("what is the address", "Hotel-Request")] * 2
    + [("thank you", "general-thank")] * 20
)


def test_cues_are_pure_frequent_words_and_single_domain_values() -> None:
    cues = domain_cues(TRAIN, LEXICON, purity=0.9, min_count=10)
    assert cues["hotel"] == "Hotel" and cues["restaurant"] == "Restaurant"
    assert cues["acorn guest house"] == "Hotel" and cues["italian"] == "Restaurant"
    assert "address" not in cues  # split between two domains
    assert "north" not in cues  # a value of two domains
    assert "golden wok" not in cues  # taxi slots reuse venue names
    assert "thank" not in cues  # general intents carry no domain


def test_oracles_fix_cued_sentences_and_guess_domain_free_ones_from_the_prior() -> None:
    test = _examples(
        [
            ("the acorn guest house please", "Hotel-Inform"),  # cued by a value
            ("a hotel in the north", "Hotel-Inform"),  # cued by a word
            ("what is the address", "Hotel-Request"),  # domain-free
            ("what is the address ?", "Attraction-Request"),  # domain-free
            ("thank you", "general-thank"),  # no domain: never domain-free
        ]
    )
    predicted = ["Restaurant-Inform", "Hotel-Inform", "Hotel-Request", "Hotel-Request", "general-thank"]
    result = domain_cue_analysis(TRAIN, test, predicted, LEXICON, purity=0.9, min_count=10)
    assert result["domain_free_examples"] == 2
    assert result["accuracy_cued"] == round(2 / 3, 4)
    assert result["accuracy_domain_free"] == 0.5
    # the prior among domain-free training requests is Attraction (3 of 5)
    assert result["prior_guess_accuracy_domain_free"] == 0.5
    assert result["oracle_model"]["accuracy"] == 0.8  # only the domain-free Attraction request stays wrong
    assert result["ceiling_accuracy"] == result["oracle_model"]["accuracy"]
    assert result["errors_domain_free_share"] == 0.5
    top = result["top_confusions"]
    assert {(c["gold"], c["predicted"], c["domain_free"]) for c in top} == {
        ("Hotel-Inform", "Restaurant-Inform", 0),
        ("Attraction-Request", "Hotel-Request", 1),
    }
