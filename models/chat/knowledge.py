"""Knowledge graph of FAQ entries, MultiWOZ entities and their attribute values, and retrieval over it.

A message is matched against FAQ questions and entity names (character and word TF-IDF); an FAQ entry is matched both
phrasing by phrasing and as one document of all its phrasings, whose pooled vocabulary covers wordings no single
phrasing has. The R-GCN link predictor adds a graph prior: its predicted probability that a candidate node links to
each node of the conversation's context (domain, top intent, entities and values in the state), averaged over the
context (``link_affinity``). Scores are ``text + graph_weight * graph``.
"""

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.feature_extraction.text import TfidfVectorizer

from streamsense.models.chat.dst import spellings
from streamsense.models.chat.gnn import GNNConfig, RGCNLinkPredictor, index_triples, train_link_predictor

VERSION = "knowledge-3"
WEIGHTS = (0.0, 0.2, 0.4, 0.8, 1.6)
DOCUMENT_WEIGHTS = (0.0, 0.5, 1.0)
NON_WORD = re.compile(r"[^\w']+")
ATTRIBUTES = ("area", "food", "pricerange", "type", "stars", "parking", "internet")


@dataclass
class Hit:
    node_id: str
    kind: str
    text: str
    score: float


def build_graph(databases: dict[str, list[dict]], faq: list[dict]) -> nx.MultiDiGraph:
    """Nodes: domains, intents, entities, values, FAQ entries (with training paraphrases, never held-out ones)."""
    graph = nx.MultiDiGraph()
    for domain, rows in databases.items():
        graph.add_node(f"domain:{domain}", kind="domain", text=domain)
        for row in rows:
            if "name" not in row:
                continue
            node = f"{domain}:{row['name'].lower()}"
            facts = ", ".join(f"{a} {row[a]}" for a in ATTRIBUTES if row.get(a) not in (None, "?"))
            graph.add_node(node, kind="entity", text=f"{row['name']} ({domain}): {facts}")
            graph.add_edge(node, f"domain:{domain}", relation="in_domain")
            for attribute in ATTRIBUTES:
                if row.get(attribute) not in (None, "?", ""):
                    value = f"value:{attribute}={row[attribute]}"
                    graph.add_node(value, kind="value", text=f"{attribute} {row[attribute]}")
                    graph.add_edge(node, value, relation=f"has_{attribute}")
    for entry in faq:
        node = entry["id"]
        graph.add_node(
            node, kind="faq", text=entry["answer"], question=entry["question"], paraphrases=entry["paraphrases"]
        )
        graph.add_node(f"domain:{entry['domain']}", kind="domain", text=entry["domain"])
        graph.add_edge(node, f"domain:{entry['domain']}", relation="faq_domain")
        for intent in entry["intents"]:
            graph.add_node(f"intent:{intent}", kind="intent", text=intent)
            graph.add_edge(node, f"intent:{intent}", relation="faq_intent")
        if "attribute" in entry:
            attribute, value = entry["attribute"]
            graph.add_edge(node, f"value:{attribute}={value}", relation="faq_value")
    return graph


PLACES = ("hotel", "restaurant", "attraction")
KINDS = {
    "hotel": r"hotels?|guest ?houses?|guesthouses?|b ?and ?bs?|bed and breakfasts?|lodges?",
    "restaurant": r"restaurants?|eater(?:y|ies)",
    "attraction": r"attractions?|museums?|colleges?|galler(?:y|ies)|theatres?|cinemas?|churche?s?|nightclubs?|clubs?"
    r"|pools?|parks?|boats?|concert ?halls?",
    "train": r"trains?|rail(?:way)?|stations?|tickets?|fares?",
    "taxi": r"taxis?|cabs?",
    "police": r"police",
    "hospital": r"hospitals?|doctors?",
}
"""The words that name a kind of place in each domain: "the museum" refers back to an attraction, never a hotel."""
FOLLOW_UP = {
    domain: re.compile(rf"\b(?:it|its|they|their|them|(?:the|this|that) (?:place|{KINDS[domain]}))\b")
    for domain in PLACES
}
"""Words with which a message refers back to the place the conversation named in its domain ("does it have
parking?", "what's their phone number?", "is the hotel nice?")."""
OTHER_KINDS = {
    domain: re.compile(rf"\b(?:{'|'.join(kinds for other, kinds in KINDS.items() if other != domain)})\b")
    for domain in PLACES
}
"""A kind of place of another domain ("the museum", "a taxi" while a hotel is tracked): the message is about that."""
_CONTACT = r"address|located|location|directions|post ?code|(?:phone |telephone |contact )?number|phone|telephone"
_AREA = r"area|part of town|side of town|neighbou?rhood"
_PRICE = r"price ?range|prices?|priced|pricey|costs?|how (?:much|expensive|cheap)|charges?|rates?"
_ANSWERED = {
    "hotel": rf"{_CONTACT}|{_AREA}|{_PRICE}|car park|parking|park|internet|wi ?fi|wireless|stars?|ratings?|rated"
    r"|type|kind",
    "restaurant": rf"{_CONTACT}|{_AREA}|{_PRICE}|(?:type|kind|sort)s? of (?:food|cuisine)|food|cuisine|serves?",
    "attraction": rf"{_CONTACT}|{_AREA}|{_PRICE}|entrance|entry|fees?|admission|tickets?|open|opens|opening"
    r"|closes?|closing|hours|type|kind",
}
ASKED = {domain: re.compile(rf"\b(?:(?:any|some|free)\s+)*(?:{words})\b") for domain, words in _ANSWERED.items()}
"""Per domain, the attributes its database rows hold, as a message asks about them ("parking?", "what's the
postcode?", "how much is a room?"; a restaurant's food, an attraction's entrance fee and opening hours), with a
quantifier or "free" before it ("any parking?", "free wifi?"), which then says nothing about which place is meant."""
POLICY = re.compile(
    r"\b(?:book|books|booking|booked|reserve|reserved|reservations?|cancel|cancell?ing|cancell?ed|cancell?ation"
    r"|change|check ?(?:in|out)|checkin|checkout|breakfast|deliver|delivers|delivery|takeaway|take ?away|take out"
    r"|order|wheelchairs?|accessible|accessibility|disabled|lifts?|pets?|dogs?|refunds?|deposit|pay|paying|payment"
    r"|cards?|cash|luggage|children|kids|vegetarian|vegan|gluten)\b"
)
"""How things are done (booking, cancelling, checking in, delivery, paying, access): an FAQ answers it, never a
place's record, even asked of the place ("can I cancel it?", "does it have wheelchair access?")."""
MEANING = re.compile(
    r"\b(?:mean|means|meaning|usual|usually|general|generally|normal|normally|typical|typically|common|standard"
    r"|policy|policies|rules?)\b"
)
"""What a question asks when it asks what something means or what is usual ("what do the star ratings mean?")."""
GENERAL = re.compile(
    rf"\b(?:{'|'.join(KINDS.values())}|places?|any|anything|anywhere|another|other|others|else|which|some"
    r"|something|somewhere|ones|options|most|every|each|in (?:cambridge|town|the city))\b"
)
"""What makes a question general or a search rather than one about the place the conversation named: a kind of
place or another domain ("do hotels have parking?", "a taxi with wifi?"), a quantifier ("any with parking?",
"which has wifi?"), the whole town."""
RATED = re.compile(r"\b(?:\d|zero|one|two|three|four|five) ?stars?\b")
"""A star rating asked for ("4 stars with parking?"): a search."""
FILLER = re.compile(
    r"(?:a|an|the|this|that|these|those|it|its|they|them|their|there|here|i|me|my|we|us|our|you|your|he|she|is|are"
    r"|was|were|be|been|am|do|does|did|have|has|had|can|could|will|would|should|may|might|must|s|t|re|ll|d|m|ve|don"
    r"|doesn|isn|aren|didn|what|whats|where|when|how|who|why|many|of|for|at|in|on|to|from|with|about|by|near|per|and"
    r"|or|so|then|also|too|please|thanks|thank|ok|okay|great|sorry|just|exactly|again|yes|no|not|tell|know|give|get"
    r"|got|need|want|like|let|offer|offers|provide|included|include|includes|available|free|car|cars|room|rooms"
    r"|night|nights|stay|guests|people|person|single|double|twin|family|time|times|space|spaces|spot|spots|one|two"
    r"|three|four|five|six|seven|eight|nine|ten|\d+)"
)
"""The words a question about the tracked place may hold beside the attribute ("what's the postcode?", "how much is
a room for 2 nights?"). Any other word is something else the message is about: a city ("a ticket to london"),
another place ("the tourist office"), a topic ("what's the food like?" while a hotel is tracked), a value sought
("wifi in the centre?", "chinese food?")."""


def _as_read(text: str) -> str:
    """``text`` in words as a message is read for names: lowered, split at whatever is neither a word nor ``'``."""
    return " ".join(NON_WORD.split(text.lower())).strip()


def _folded(node: str) -> str:
    """A node id without case, spaces or hyphens: how two spellings of one value compare."""
    return re.sub(r"[\s\-]", "", node.lower())


class KnowledgeRetriever:
    """``retrieve(text, state, intents, k)`` -> top-k FAQ/entity nodes with scores."""

    def __init__(
        self,
        graph: nx.MultiDiGraph,
        embeddings: np.ndarray,
        node_ids: list[str],
        graph_weight: float,
        affinity: np.ndarray | None = None,
        document_weight: float = 0.0,
    ) -> None:
        self.graph = graph
        self.node_ids = node_ids
        self.index = {n: i for i, n in enumerate(node_ids)}
        self.spelled = {_folded(n): n for n in node_ids}
        self.embeddings = F.normalize(torch.from_numpy(embeddings), dim=1).numpy()
        self.graph_weight = graph_weight
        self.document_weight = document_weight
        self.candidates = [n for n in node_ids if graph.nodes[n]["kind"] in ("faq", "entity")]
        self.names = {
            i: n.split(":", 1)[1] for i, n in enumerate(self.candidates) if graph.nodes[n]["kind"] == "entity"
        }
        self.documents: list[str] = []
        self.owners: list[int] = []
        for i, node in enumerate(self.candidates):
            data = graph.nodes[node]
            texts = [data["question"], *data.get("paraphrases", [])] if data["kind"] == "faq" else [self.names[i]]
            self.documents += texts
            self.owners += [i] * len(texts)
        self.char = TfidfIndex(char_vectorizer(), self.documents)
        self.word = TfidfIndex(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english"), self.documents
        )
        self.faq_rows = np.array([i for i, n in enumerate(self.candidates) if graph.nodes[n]["kind"] == "faq"], int)
        pooled = [
            " ".join(self.documents[j] for j in np.flatnonzero(np.array(self.owners) == i)) for i in self.faq_rows
        ]
        self.pooled_char = TfidfIndex(char_vectorizer(), pooled) if pooled else None
        self.pooled_word = (
            TfidfIndex(TfidfVectorizer(sublinear_tf=True, stop_words="english"), pooled) if pooled else None
        )
        self.owner_array = np.array(self.owners)
        self.candidate_rows = np.array([self.index[n] for n in self.candidates])
        self.entity_rows = np.array(sorted(self.names), dtype=np.int64)
        self.entity_of = {_folded(n): i for i, n in enumerate(self.candidates) if i in self.names}
        # a name as messages are read (hyphens and "&" split words) and as users also spell it ("kings college",
        # "arbury lodge guest house"), which the tracker reads as the name too
        written = {i: {self.names[i], *spellings(self.names[i])} for i in self.entity_rows.tolist()}
        self.padded_names = [
            (i, f" {form} ") for i, names in written.items() for form in sorted({_as_read(n) for n in names})
        ]
        # candidate x node: the link predictor's probability of an edge between them (see ``link_affinity``)
        self.affinity = affinity if affinity is not None else np.zeros((len(self.candidates), len(node_ids)), "f4")

    def context_nodes(self, state: dict | None, intents: Sequence[tuple[str, float]] | None) -> list[str]:
        """Graph nodes the conversation is about: domain, top intent, named entities and attribute values."""
        nodes = []
        state = state or {}
        if state.get("domain"):
            nodes.append(f"domain:{state['domain']}")
        if intents:
            nodes.append(f"intent:{intents[0][0]}")
        for slot, value in state.get("slots", {}).items():
            domain, name = slot.split("-", 1)
            attribute = {"price": "pricerange"}.get(name, name)
            # a taxi's ends are places: the hotel, restaurant or attraction of that name
            places = PLACES if domain == "taxi" else (domain,)
            nodes += [f"{place}:{value}" for place in places] + [f"value:{attribute}={value}"]
        # the tracker writes the ontology's spelling ("guest house"), the graph the database's ("guesthouse")
        return [self.spelled[_folded(n)] for n in nodes if _folded(n) in self.spelled]

    def tracked_places(self, state: dict | None) -> list[int]:
        """Candidate rows of the place the state names in its domain: a name of another domain would answer a
        question about this one ("when does it leave?" in a train booking after a hotel was named)."""
        state = state or {}
        slots = state.get("slots", {})
        names = {slot.split("-", 1)[0]: value for slot, value in slots.items() if slot.endswith("-name")}
        domain = state.get("domain")
        named = {domain: names[domain]} if domain in names else {}
        rows = (self.entity_of.get(_folded(f"{place}:{value}")) for place, value in named.items())
        return [row for row in rows if row is not None]

    @staticmethod
    def asks_about_tracked(text: str, domain: str | None) -> bool:
        """Whether a message naming no place asks about the place the conversation named in ``domain``, what that
        place's database record answers: it refers back ("does it have parking?", "is the hotel nice?"), or asks
        about an attribute rows of that domain hold in words that say nothing else ("parking?", "how much is a
        room?"). Never a process ("can I cancel it?", "what time is check-in?"), what something means or what is
        usual, another domain's place or attribute ("the opening hours of the museum", "what's the food like?" of a
        hotel), a general question or a search ("do hotels have parking?", "wifi in the centre?"), or anything else
        besides ("a ticket to london", "the tourist office"): those the FAQs answer, and the tracked place ranked
        first above them. ``text`` is read as messages are for names ("check-in" as "check in")."""
        if domain not in ASKED:
            return False
        read = _as_read(text)
        rest = ASKED[domain].sub(" ", read)
        foreign = any(asked.search(rest) for other, asked in ASKED.items() if other != domain)
        if foreign or POLICY.search(read) or MEANING.search(read) or OTHER_KINDS[domain].search(rest):
            return False
        if FOLLOW_UP[domain].search(read):
            return True
        if rest == read or GENERAL.search(rest) or RATED.search(read):
            return False
        return all(FILLER.fullmatch(word) for word in re.findall(r"[^\W_]+", rest))

    def score_parts(
        self, text: str, state: dict | None = None, intents: Sequence[tuple[str, float]] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per candidate: the best phrasing's text score, the pooled document's (equal to the first for entities)
        and the graph prior. Text is the mean of character and word TF-IDF cosine; an entity scores 1 when its full
        name is in the message, or when the message names none and asks about the place the state names
        (``asks_about_tracked``: "does it have parking?", "parking?"), else half its name similarity. Without that
        the follow-up ranked the tracked place 14th to 28th, under every FAQ of its domain: the graph prior links an
        entity weakly to itself."""
        phrasing = np.zeros(len(self.candidates))
        # both character indexes come from ``char_vectorizer``: one analysis serves them
        char_terms, word_terms = self.char.terms(text), self.word.terms(text)
        np.maximum.at(phrasing, self.owner_array, (self.char.cosine(char_terms) + self.word.cosine(word_terms)) / 2)
        lowered = f" {_as_read(text)} "
        phrasing[self.entity_rows] /= 2
        named = False
        for i, padded in self.padded_names:
            if padded in lowered:
                phrasing[i] = 1.0
                named = True
        if not named and (tracked := self.tracked_places(state)) and self.asks_about_tracked(text, state["domain"]):
            phrasing[tracked] = 1.0
        pooled = phrasing.copy()
        if self.pooled_char is not None and self.pooled_word is not None:
            pooled_word = self.pooled_word.cosine(self.pooled_word.terms(text))
            pooled[self.faq_rows] = (self.pooled_char.cosine(char_terms) + pooled_word) / 2
        context = self.context_nodes(state, intents)
        graph = np.zeros(len(self.candidates))
        if context:
            graph = self.affinity[:, [self.index[n] for n in context]].mean(axis=1)
        return phrasing, pooled, graph

    def combine(
        self, parts: tuple[np.ndarray, np.ndarray, np.ndarray], graph_weight: float, document_weight: float
    ) -> np.ndarray:
        phrasing, pooled, graph = parts
        return (1 - document_weight) * phrasing + document_weight * pooled + graph_weight * graph

    def scores(
        self, text: str, state: dict | None = None, intents: Sequence[tuple[str, float]] | None = None
    ) -> np.ndarray:
        """Text (best phrasing and pooled document mixed by ``document_weight``) plus the weighted graph prior."""
        return self.combine(self.score_parts(text, state, intents), self.graph_weight, self.document_weight)

    def retrieve(
        self, text: str, state: dict | None = None, intents: Sequence[tuple[str, float]] | None = None, k: int = 3
    ) -> list[Hit]:
        """The ``k`` best FAQ entries and entities, none where no phrasing shares a character n-gram with ``text``
        (an empty message, or one in a script the FAQs are not written in): the graph prior alone answered those
        with three hits as high as real answers (about 0.35), from the conversation's intents."""
        parts = self.score_parts(text, state, intents)
        if not (parts[0].any() or parts[1].any()):
            return []
        scores = self.combine(parts, self.graph_weight, self.document_weight)
        top = np.argsort(-scores)[:k]
        return [
            Hit(
                self.candidates[i],
                self.graph.nodes[self.candidates[i]]["kind"],
                self.graph.nodes[self.candidates[i]]["text"],
                round(float(scores[i]), 4),
            )
            for i in top
        ]

    @classmethod
    def train(
        cls, graph: nx.MultiDiGraph, config: GNNConfig | None = None, graph_weight: float | None = None
    ) -> "KnowledgeRetriever":
        """Embed the graph with the R-GCN link predictor and keep its candidate-to-node link probabilities; without
        ``graph_weight``, pick it and ``document_weight`` by leave-one-out mean reciprocal rank on the training
        paraphrases (held-out questions are never looked at; MRR separates settings that hits@3 ties)."""
        nodes: dict[str, int] = {n: i for i, n in enumerate(sorted(graph.nodes))}
        relations: dict[str, int] = {}
        triples = index_triples([(h, d["relation"], t) for h, t, d in graph.edges(data=True)], nodes, relations)
        model = train_link_predictor(len(nodes), len(relations), triples, config or GNNConfig(epochs=150))
        with torch.no_grad():
            embeddings = model.encode().numpy()
        node_ids = list(nodes)
        candidates = [n for n in node_ids if graph.nodes[n]["kind"] in ("faq", "entity")]
        affinity = link_affinity(model, [nodes[n] for n in candidates])
        document_weight = 0.0
        if graph_weight is None:
            settings = [(w, d) for w in WEIGHTS for d in DOCUMENT_WEIGHTS]
            loo = leave_one_out(graph, embeddings, node_ids, settings, affinity)
            graph_weight, document_weight = max(settings, key=lambda s: (loo[s]["mrr"], -s[0], -s[1]))
        return cls(graph, embeddings, node_ids, graph_weight, affinity, document_weight)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path.with_suffix(".npz"), embeddings=self.embeddings, affinity=self.affinity)
        sidecar = {
            "version": VERSION,
            "graph": nx.node_link_data(self.graph, edges="edges"),
            "node_ids": self.node_ids,
            "graph_weight": self.graph_weight,
            "document_weight": self.document_weight,
        }
        path.with_suffix(".json").write_text(json.dumps(sidecar))

    @classmethod
    def load(cls, path: Path) -> "KnowledgeRetriever":
        sidecar = json.loads(path.with_suffix(".json").read_text())
        if sidecar["version"] != VERSION:
            raise ValueError(f"{path}: version {sidecar['version']} != {VERSION}")
        graph = nx.node_link_graph(sidecar["graph"], edges="edges")
        arrays = np.load(path.with_suffix(".npz"))
        return cls(
            graph,
            arrays["embeddings"],
            sidecar["node_ids"],
            sidecar["graph_weight"],
            arrays["affinity"],
            sidecar["document_weight"],
        )


def char_vectorizer() -> TfidfVectorizer:
    """Character 2-4-grams within word boundaries, for phrasings and pooled documents alike."""
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)


class TfidfIndex:
    """Documents fitted with a TF-IDF vectorizer; ``cosine(terms(text))`` scores one message against every document.

    Equal, bit for bit, to ``matrix @ vectorizer.transform([text]).T``, without the per-call input validation and
    sparse-matrix building that made up two thirds of a message's knowledge lookup (four transforms a message):
    the same analyzer, vocabulary, sublinear tf, idf and L2 norm, and a sparse-matrix by dense-vector
    product, which sums each document's products in the order of its stored row as the sparse-sparse product did.
    """

    def __init__(self, vectorizer: TfidfVectorizer, documents: Sequence[str]) -> None:
        self.matrix = vectorizer.fit_transform(documents).tocsr()
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf: np.ndarray = vectorizer.idf_
        self.sublinear = vectorizer.sublinear_tf

    def terms(self, text: str) -> Counter[str]:
        """The analyzer's terms of ``text`` and their counts (shareable by indexes with the same analyzer)."""
        return Counter(self.analyze(text))

    def query(self, terms: Counter[str]) -> np.ndarray:
        """The message's L2-normalised tf-idf vector, dense, as ``vectorizer.transform`` computes it."""
        counts = {self.vocabulary[t]: n for t, n in terms.items() if t in self.vocabulary}
        ids = np.array(sorted(counts), dtype=np.int64)
        weights = np.array([counts[j] for j in ids.tolist()], dtype=np.float64)
        if self.sublinear:
            np.log(weights, weights)
            weights += 1.0
        weights *= self.idf[ids]
        square_sum = 0.0
        for w in weights.tolist():  # sequential, in feature order, as sklearn's l2 row normalisation
            square_sum += w * w
        if square_sum:
            weights /= math.sqrt(square_sum)
        dense = np.zeros(self.matrix.shape[1])
        dense[ids] = weights
        return dense

    def cosine(self, terms: Counter[str]) -> np.ndarray:
        """Per document, the dot product of its tf-idf row with the message's (both L2-normalised)."""
        return self.matrix @ self.query(terms)


FAQ_DIR = Path(__file__).resolve().parents[2] / "datasets" / "data" / "chat"


def load_faq(path: Path | None = None) -> list[dict]:
    """The hand-written FAQ entries shipped in the repo (``datasets/data/chat/faq.json``)."""
    return json.loads((path or FAQ_DIR / "faq.json").read_text())["entries"]


def load_fresh_questions(path: Path | None = None) -> dict[str, list[str]]:
    """Per FAQ id, questions written later from the entry's question and answer alone, which nothing was trained
    or tuned on (``datasets/data/chat/faq_fresh.json``)."""
    return json.loads((path or FAQ_DIR / "faq_fresh.json").read_text())["questions"]


@torch.no_grad()
def link_affinity(model: RGCNLinkPredictor, rows: Sequence[int]) -> np.ndarray:
    """For each candidate node and every node of the graph, the largest predicted probability of an edge between
    them over all relations and both directions: softmax over tails of the ComplEx scores, the quantity the link
    predictor is trained on. Rows follow ``rows``; columns are all nodes."""
    x = model.encode()
    heads = torch.tensor(list(rows), dtype=torch.long)
    best = torch.zeros(len(heads), x.shape[0])
    for relation in range(2 * model.n_relations):
        probabilities = torch.softmax(model.score(x, heads, torch.full_like(heads, relation)), dim=1)
        best = torch.maximum(best, probabilities)
    return best.numpy().astype(np.float32)


def leave_one_out(
    graph: nx.MultiDiGraph,
    embeddings: np.ndarray,
    node_ids: list[str],
    settings: Sequence[tuple[float, float]],
    affinity: np.ndarray | None = None,
) -> dict[tuple[float, float], dict[str, float]]:
    """Hits@3 and mean reciprocal rank, per (graph weight, document weight), of each training paraphrase with
    itself removed from its FAQ's phrasings (one retriever per paraphrase serves every setting)."""
    ranks: dict[tuple[float, float], list[int]] = {s: [] for s in settings}
    for node, data in list(graph.nodes(data=True)):
        if data["kind"] != "faq":
            continue
        domains = [t for _, t, d in graph.out_edges(node, data=True) if d["relation"] == "faq_domain"]
        intents = [t for _, t, d in graph.out_edges(node, data=True) if d["relation"] == "faq_intent"]
        state = {"domain": domains[0].split(":", 1)[1], "slots": {}}
        paraphrases = list(data["paraphrases"])
        for i, question in enumerate(paraphrases):
            data["paraphrases"] = paraphrases[:i] + paraphrases[i + 1 :]
            retriever = KnowledgeRetriever(graph, embeddings, node_ids, 0.0, affinity)
            parts = retriever.score_parts(question, state, [(intents[0].split(":", 1)[1], 1.0)])
            target = retriever.candidates.index(node)
            for setting in settings:
                scores = retriever.combine(parts, *setting)
                ranks[setting].append(int((scores > scores[target]).sum()) + 1)
        data["paraphrases"] = paraphrases
    out = {}
    for setting, values in ranks.items():
        rank = np.array(values or [np.inf], dtype=float)
        out[setting] = {"hits_at_3": float((rank <= 3).mean()), "mrr": float((1 / rank).mean())}
    return out
