"""R-GCN + ComplEx link predictor learns a small relational pattern; filtered ranking metrics behave."""

from streamsense.models.chat.gnn import GNNConfig, evaluate_link_prediction, index_triples, train_link_predictor


def test_link_predictor_ranks_known_links_far_above_chance() -> None:
    strings = [(f"n{i}", "next", f"n{(i + 1) % 12}") for i in range(12)]
    strings += [(f"n{i}", "parity", "even" if i % 2 == 0 else "odd") for i in range(12)]
    nodes: dict[str, int] = {}
    relations: dict[str, int] = {}
    triples = index_triples(strings, nodes, relations)
    model = train_link_predictor(len(nodes), len(relations), triples, GNNConfig(dim=32, epochs=150, dropout=0.0))
    metrics = evaluate_link_prediction(model, triples, triples)
    assert metrics["mrr"] > 0.5
    assert 0.0 <= metrics["hits_at_1"] <= metrics["hits_at_3"] <= metrics["hits_at_10"] <= 1.0
