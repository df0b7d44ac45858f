"""Throughput and per-stage latency of the whole chat path (intent -> state -> knowledge) on one CPU core.

Replays dialogues generated from held-out templates, carrying each conversation's state between turns as the
stream worker would. Prints one JSON object. Needs ``streamsense data multiwoz`` and ``streamsense train chat``.

Beside wall-clock latency, ``cpu_ms`` is the thread's CPU time per message and ``gc_collections`` counts the
collector's runs per generation during the replay: on a shared machine a wall-clock tail well above the CPU tail
is time spent waiting for a core, not work of the chat path. ``intent_cpu_us_per_message`` compares the intent
stage one message at a time with whole batches of ``--batch`` messages in one pass (as the stream worker does).
``longest_message_ms`` is each stage's wall-clock time for the longest message the schema takes (4,000
characters), a turn naming a station said again and again, the median of five.
"""

import argparse
import gc
import json
import statistics
import time

import torch

from streamsense.datasets.dialogues import generate
from streamsense.datasets.multiwoz import MultiWOZ, split_templates
from streamsense.models.chat.evaluation import latency_summary
from streamsense.models.chat.pipeline import ChatPipeline
from streamsense.settings import get_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dialogues", type=int, default=300)
    parser.add_argument("--int8", action="store_true", help="use the INT8 dynamically quantized intent model")
    parser.add_argument("--batch", type=int, default=200, help="messages per batch for the batched intent stage")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = MultiWOZ.load()
    dialogues = generate(data, split_templates(data.templates).test, args.dialogues, seed=7)
    pipeline = ChatPipeline.load(get_settings().artifact_dir)
    if args.int8:
        pipeline.intent = pipeline.intent.quantized()
    for turn in dialogues[0].turns:
        pipeline.process(None, turn.text)
    stages: dict[str, list[float]] = {"intent": [], "dst": [], "knowledge": [], "total": []}
    cpu_ms: list[float] = []
    collections = [g["collections"] for g in gc.get_stats()]
    start = time.perf_counter()
    for dialogue in dialogues:
        state = None
        for turn in dialogue.turns:
            c0, t0 = time.thread_time(), time.perf_counter()
            result = pipeline.process(state, turn.text)
            stages["total"].append((time.perf_counter() - t0) * 1e3)
            cpu_ms.append((time.thread_time() - c0) * 1e3)
            state = result.state
            for name, ms in result.timings_ms.items():
                stages[name].append(ms)
    elapsed = time.perf_counter() - start
    collections = [g["collections"] - before for g, before in zip(gc.get_stats(), collections, strict=True)]
    messages = len(stages["total"])
    texts = [turn.text for dialogue in dialogues for turn in dialogue.turns]
    c0 = time.thread_time()
    for text in texts:
        pipeline.intent.predict(text)
    one_at_a_time = time.thread_time() - c0
    c0 = time.thread_time()
    for first in range(0, len(texts), args.batch):
        pipeline.intent.predict_batch(texts[first : first + args.batch])
    batched = time.thread_time() - c0
    longest = ("I need a train to cambridge " * 200)[:4000]
    longest_ms: dict[str, list[float]] = {}
    for _ in range(5):
        for name, ms in pipeline.process(None, longest).timings_ms.items():
            longest_ms.setdefault(name, []).append(ms)
    print(
        json.dumps(
            {
                "messages": messages,
                "int8_intent": args.int8,
                "messages_per_second_per_core": round(messages / elapsed, 1),
                "latency_ms": {name: latency_summary(values) for name, values in stages.items()},
                "cpu_ms": latency_summary(cpu_ms),
                "intent_cpu_us_per_message": {
                    "one_at_a_time": round(one_at_a_time / len(texts) * 1e6, 1),
                    f"batches_of_{args.batch}": round(batched / len(texts) * 1e6, 1),
                },
                "longest_message_ms": {name: round(statistics.median(v), 2) for name, v in longest_ms.items()},
                "gc_collections": collections,
                "p99_target_ms": 20.0,
                "p99_meets_target": latency_summary(stages["total"])["p99"] < 20.0,
            }
        )
    )


if __name__ == "__main__":
    main()
