"""R-GCN encoder (Schlichtkrull et al., 2018) with a ComplEx decoder, trained for link prediction.

The same code embeds the chat knowledge graph and is checked on the Nations and Kinships benchmarks, so the
embeddings that rank FAQ entries come from a model whose link-prediction quality is measured.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import RGCNConv

Triple = tuple[int, int, int]


@dataclass(frozen=True)
class GNNConfig:
    dim: int = 128
    layers: int = 1
    epochs: int = 300
    lr: float = 0.01
    dropout: float = 0.2
    weight_decay: float = 0.0
    seed: int = 0


class RGCNLinkPredictor(nn.Module):
    """Node embeddings refined by relational message passing; (h, r, ?) scored against every node with ComplEx."""

    def __init__(self, n_nodes: int, n_relations: int, config: GNNConfig) -> None:
        super().__init__()
        self.config = config
        self.n_relations = n_relations
        self.node = nn.Embedding(n_nodes, config.dim)
        self.convs = nn.ModuleList(
            RGCNConv(config.dim, config.dim, num_relations=2 * n_relations, num_bases=min(8, 2 * n_relations))
            for _ in range(config.layers)
        )
        self.relation = nn.Embedding(2 * n_relations, config.dim)
        nn.init.normal_(self.node.weight, std=0.1)
        nn.init.normal_(self.relation.weight, std=0.1)
        self.edge_index = torch.zeros(2, 0, dtype=torch.long)
        self.edge_type = torch.zeros(0, dtype=torch.long)

    def set_graph(self, triples: Sequence[Triple]) -> None:
        """Messages flow along the training triples and their inverses (relation id + n_relations)."""
        t = torch.tensor(triples, dtype=torch.long).reshape(-1, 3)
        self.edge_index = torch.cat([t[:, [0, 2]].T, t[:, [2, 0]].T], dim=1)
        self.edge_type = torch.cat([t[:, 1], t[:, 1] + self.n_relations])

    def encode(self) -> torch.Tensor:
        x = self.node.weight
        for conv in self.convs:
            h = conv(F.dropout(x, self.config.dropout, self.training), self.edge_index, self.edge_type)
            x = x + torch.tanh(h)
        return x

    def score(self, x: torch.Tensor, heads: torch.Tensor, relations: torch.Tensor) -> torch.Tensor:
        """ComplEx: Re(<h, r, conj(t)>) for every node t; asymmetric, unlike DistMult."""
        h_re, h_im = x[heads].chunk(2, dim=-1)
        r_re, r_im = self.relation(relations).chunk(2, dim=-1)
        t_re, t_im = x.chunk(2, dim=-1)
        return (h_re * r_re - h_im * r_im) @ t_re.T + (h_re * r_im + h_im * r_re) @ t_im.T


def link_queries(triples: Sequence[Triple], n_relations: int) -> torch.Tensor:
    """(head, relation, answer) rows for tail prediction and, via inverse relations, head prediction."""
    t = torch.tensor(triples, dtype=torch.long).reshape(-1, 3)
    inverse = torch.stack([t[:, 2], t[:, 1] + n_relations, t[:, 0]], dim=1)
    return torch.cat([t, inverse])


def train_link_predictor(
    n_nodes: int, n_relations: int, triples: Sequence[Triple], config: GNNConfig | None = None
) -> RGCNLinkPredictor:
    """Full-batch 1-vs-all cross-entropy over all nodes (cheap for graphs of a few thousand nodes)."""
    config = config or GNNConfig()
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    model = RGCNLinkPredictor(n_nodes, n_relations, config)
    model.set_graph(triples)
    queries = link_queries(triples, n_relations)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    model.train()
    for _ in range(config.epochs):
        train_step(model, queries, optimizer)
    model.eval()
    return model


def train_step(model: RGCNLinkPredictor, queries: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
    """One full-batch 1-vs-all step on ``queries`` (``link_queries`` rows: head, relation, answer)."""
    optimizer.zero_grad()
    x = model.encode()
    logits = model.score(x, queries[:, 0], queries[:, 1])
    F.cross_entropy(logits, queries[:, 2], label_smoothing=0.1).backward()
    optimizer.step()


@torch.no_grad()
def evaluate_link_prediction(
    model: RGCNLinkPredictor, test: Sequence[Triple], known: Sequence[Triple]
) -> dict[str, float]:
    """Filtered ranking (Bordes et al., 2013) in both directions: MRR, hits@1/3/10."""
    x = model.encode()
    queries = link_queries(test, model.n_relations)
    answers: dict[tuple[int, int], set[int]] = {}
    for h, r, t in link_queries(known, model.n_relations).tolist():
        answers.setdefault((h, r), set()).add(t)
    scores = model.score(x, queries[:, 0], queries[:, 1])
    ranks = []
    for row, (h, r, t) in zip(scores, queries.tolist(), strict=True):
        mask = torch.zeros_like(row, dtype=torch.bool)
        mask[list(answers.get((h, r), set()) - {t})] = True
        row = row.masked_fill(mask, float("-inf"))
        ranks.append(int((row > row[t]).sum()) + 1)
    rank = torch.tensor(ranks, dtype=torch.float)
    return {
        "mrr": round(float((1 / rank).mean()), 4),
        "hits_at_1": round(float((rank <= 1).float().mean()), 4),
        "hits_at_3": round(float((rank <= 3).float().mean()), 4),
        "hits_at_10": round(float((rank <= 10).float().mean()), 4),
    }


def index_triples(
    triples: Sequence[tuple[str, str, str]], nodes: dict[str, int], relations: dict[str, int]
) -> list[Triple]:
    """String triples to ids, growing the node and relation maps."""
    out = []
    for h, r, t in triples:
        out.append(
            (nodes.setdefault(h, len(nodes)), relations.setdefault(r, len(relations)), nodes.setdefault(t, len(nodes)))
        )
    return out
