"""CPU time of one feedback step of the chat intent model (``learn_one``, with EWC), on one core.

Each chat worker learns every event of ``chat.feedback``, live and again from the topic's beginning when it starts,
in its event loop, so a step's cost is both the worker's start-up per kept feedback event and the pause it puts
between message batches. Feedback is held-out template sentences with their true intents; the model is the cached
artifact. ``every_row`` is the same steps with the EWC step over the whole embedding, as before stop 27, and
``same_predictions`` checks that both ways leave a model that predicts the same. ``snapshot`` is what a worker's
snapshot of the learned model costs (``streams/learned_snapshot.py``): copying the learned state, which pauses the
event loop, then writing the file, in a thread, and taking it up on the trained model at a restart. Prints one JSON
object. Needs ``streamsense data multiwoz`` and ``streamsense train chat``.
"""

import argparse
import copy
import json
import random
import tempfile
import time
from pathlib import Path

import torch

from streamsense.datasets.multiwoz import MultiWOZ, fill, split_templates, value_lexicon
from streamsense.models.chat.evaluation import latency_summary
from streamsense.models.chat.intent import IntentClassifier
from streamsense.models.chat.pipeline import ChatPipeline
from streamsense.settings import get_settings
from streamsense.streams.learned_snapshot import Snapshot, load_snapshot, save_snapshot


def _steps(model: IntentClassifier, feedback: list[tuple[str, str]]) -> list[float]:
    """CPU milliseconds of each ``learn_one``, in order."""
    spent = []
    for text, intent in feedback:
        start = time.thread_time()
        model.learn_one(text, intent)
        spent.append((time.thread_time() - start) * 1000)
    return spent


def _snapshot(model: IntentClassifier, trained: IntentClassifier, probe: list[str]) -> dict:
    """Milliseconds to copy, save and take up a snapshot of ``model``, its size, and whether ``trained`` predicts
    as ``model`` once it took it up."""
    start = time.thread_time()
    learned = model.learned()
    copy_ms = (time.thread_time() - start) * 1000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "chat-learned.pt"
        start = time.perf_counter()
        save_snapshot(path, Snapshot("bench", {}, {}, learned, {}))
        save_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        kept = load_snapshot(path, "bench", {})
        assert kept is not None
        trained.restore(kept.learned)
        take_up_ms = (time.perf_counter() - start) * 1000
        size = path.stat().st_size
    return {
        "copy_cpu_ms": round(copy_ms, 1),
        "save_ms": round(save_ms, 1),
        "take_up_ms": round(take_up_ms, 1),
        "megabytes": round(size / 1e6, 1),
        "same_predictions": trained.predict_many(probe) == model.predict_many(probe),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feedback", type=int, default=500, help="feedback events to learn, one at a time")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = MultiWOZ.load()
    rng = random.Random(args.seed)
    lexicon = value_lexicon(data)
    pool = [(template, intent) for intent, group in split_templates(data.templates).test.items() for template in group]
    feedback = [(fill(template, lexicon, rng)[0], intent) for template, intent in rng.sample(pool, args.feedback)]
    model = ChatPipeline.load(get_settings().artifact_dir).intent
    trained = copy.deepcopy(model)
    every_row = copy.deepcopy(model)
    every_row._moved_rows = lambda name, parameter, touched: None
    rows_only = _steps(model, feedback)
    all_rows = _steps(every_row, feedback)
    probe = [text for text, _ in feedback]
    moved = model.moved["embed.weight"]
    print(
        json.dumps(
            {
                "feedback_events": len(feedback),
                "cpu_ms_per_step": latency_summary(rows_only),
                "cpu_ms_per_step_last_100": latency_summary(rows_only[-100:]),
                "every_row": {"cpu_ms_per_step": latency_summary(all_rows)},
                "embedding_rows_moved": int(moved.sum()),
                "embedding_rows": len(moved),
                "same_predictions": model.predict_many(probe) == every_row.predict_many(probe),
                "snapshot": _snapshot(model, trained, probe),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
