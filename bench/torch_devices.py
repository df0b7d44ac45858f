"""The torch models on each device this machine has: CPU (one thread, as the workers run) and CUDA if present.

Shows whether a GPU would pay for the workers. Each model is built with the shapes of the trained artifacts (read from
them when ``streamsense train`` has cached them here, else the same shapes given by the flags) and random weights,
which cost the same to run as trained ones:

- ``intent``: the chat intent network (hashed n-gram EmbeddingBag + MLP + prototypes) on real n-gram bags of chat
  messages, at the batch sizes a worker sees (it predicts a batch's intents in one pass);
- ``lstm``: the sensor forecaster over windows of ``seq_len`` steps, one window per warm reading of a batch;
- ``rgcn``: one full-graph training step of the knowledge R-GCN link predictor (the GNN runs only while training;
  lookups read its saved embeddings), on a random graph of the knowledge graph's size and on larger ones.

Inference times include copying the inputs to the device and the outputs back, since a worker's inputs and
results live in host memory. Each figure is the median of ``--repeats`` timed calls after warm-up calls, and p99
beside it (the R-GCN step: the median of a few steps). Prints one JSON object.

    python bench/torch_devices.py
    python bench/torch_devices.py --batches 1,64,256,1024,4096 --repeats 200
"""

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from streamsense.models.chat.featurize import hashes
from streamsense.models.chat.gnn import GNNConfig, RGCNLinkPredictor, link_queries, train_step
from streamsense.models.chat.intent import IntentConfig, IntentNet
from streamsense.models.sensors.forecaster import SensorLSTM

MESSAGES = [
    "I am looking for a cheap restaurant in the centre of town that serves italian food .",
    "Can I have the phone number and the postcode please ?",
    "I need a train from cambridge to london kings cross leaving after 17:15 on friday .",
    "Book a table for 4 people at 19:30 on saturday please .",
    "Is there a guesthouse with free parking and wifi in the north ?",
    "Thanks , that's all I need today . Goodbye !",
    "我想订一家便宜的餐厅",
    "What is the entrance fee of the museum and when does it open ?",
]


def timed(call: Callable[[], object], sync: Callable[[], None], warmup: int, repeats: int) -> dict[str, float]:
    for _ in range(warmup):
        call()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        sync()
        times.append((time.perf_counter() - start) * 1e6)
    times.sort()
    return {"p50_us": round(statistics.median(times), 1), "p99_us": round(times[int(0.99 * (len(times) - 1))], 1)}


def intent_case(device: torch.device, batch: int, n_intents: int) -> Callable[[], object]:
    """One forward pass over ``batch`` messages, from host bucket ids to host logits."""
    config = IntentConfig()
    net = IntentNet(config, n_intents)
    torch.nn.init.normal_(net.embed.weight, std=0.1)
    net = net.to(device).eval()
    parts = [hashes(MESSAGES[i % len(MESSAGES)]) % config.buckets for i in range(batch)]
    ids = torch.from_numpy(np.concatenate(parts))
    offsets = torch.from_numpy(np.cumsum([0] + [len(p) for p in parts[:-1]]))

    @torch.inference_mode()
    def call() -> object:
        return net(ids.to(device), offsets.to(device)).cpu().numpy()

    return call


def lstm_case(device: torch.device, batch: int, channels: int, hidden: int, seq_len: int) -> Callable[[], object]:
    """One ``last_step`` call over ``batch`` windows, from host arrays to host forecasts and RUL rows."""
    net = SensorLSTM(channels, hidden, rul_head=True).to(device).eval()
    windows = torch.from_numpy(np.random.default_rng(0).normal(size=(batch, seq_len, channels)).astype(np.float32))

    @torch.inference_mode()
    def call() -> object:
        forecast, rul = net.last_step(windows.to(device))
        assert rul is not None
        return forecast.cpu().numpy(), rul.cpu().numpy()

    return call


def rgcn_case(device: torch.device, nodes: int, relations: int, edges: int) -> Callable[[], object]:
    """One training step of the link predictor, as ``train_link_predictor`` takes it (full graph, 1-vs-all)."""
    rng = np.random.default_rng(0)
    triples = np.stack(
        [rng.integers(0, nodes, edges), rng.integers(0, relations, edges), rng.integers(0, nodes, edges)], axis=1
    )
    torch.manual_seed(0)
    listed = [tuple(t) for t in triples.tolist()]
    model = RGCNLinkPredictor(nodes, relations, GNNConfig())
    model.set_graph(listed)
    model.edge_index, model.edge_type = model.edge_index.to(device), model.edge_type.to(device)
    model = model.to(device).train()
    queries = link_queries(listed, relations).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    return lambda: train_step(model, queries, optimizer)


def artifact_shapes(cache: Path) -> dict[str, int]:
    """Shapes of the trained artifacts cached on this machine, where there are any."""
    shapes: dict[str, int] = {}
    intent = cache / "chat" / "intent.json"
    if intent.exists():
        shapes["intents"] = len(json.loads(intent.read_text())["labels"])
    sensors = cache / "sensors" / "degradation" / "meta.json"
    if sensors.exists():
        meta = json.loads(sensors.read_text())
        shapes |= {"channels": len(meta["channels"]), "hidden": meta["hidden"], "seq_len": meta["seq_len"]}
    knowledge = cache / "chat" / "knowledge.json"
    if knowledge.exists():
        graph = json.loads(knowledge.read_text())["graph"]
        shapes |= {
            "graph_nodes": len(graph["nodes"]),
            "graph_edges": len(graph["edges"]),
            "graph_relations": len({e["relation"] for e in graph["edges"]}),
        }
    return shapes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", default="1,16,64,256,1024,4096")
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--artifacts", type=Path, help="artifact dir (default: the settings' artifact_dir)")
    parser.add_argument("--intents", type=int, default=17)
    parser.add_argument("--channels", type=int, default=6)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--seq-len", type=int, default=24)
    parser.add_argument("--graph-nodes", type=int, default=321)
    parser.add_argument("--graph-relations", type=int, default=11)
    parser.add_argument("--graph-edges", type=int, default=1133)
    parser.add_argument("--graph-scales", default="1,10", help="R-GCN graphs this many times the size")
    args = parser.parse_args()
    if args.artifacts is None:
        from streamsense.settings import get_settings

        args.artifacts = get_settings().artifact_dir
    shapes = {
        "intents": args.intents,
        "channels": args.channels,
        "hidden": args.hidden,
        "seq_len": args.seq_len,
        "graph_nodes": args.graph_nodes,
        "graph_relations": args.graph_relations,
        "graph_edges": args.graph_edges,
    }
    found = artifact_shapes(args.artifacts)
    shapes |= found
    torch.set_num_threads(1)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    batches = [int(b) for b in args.batches.split(",")]
    report: dict[str, object] = {
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
        "cpu_threads": torch.get_num_threads(),
        "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "shapes": shapes,
        "shapes_from_artifacts": sorted(found),
    }
    for device in devices:
        sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
        intent, lstm, rgcn = {}, {}, {}
        for b in batches:
            intent[b] = timed(intent_case(device, b, shapes["intents"]), sync, 10, args.repeats)
            intent[b]["per_message_us"] = round(intent[b]["p50_us"] / b, 2)
            lstm[b] = timed(
                lstm_case(device, b, shapes["channels"], shapes["hidden"], shapes["seq_len"]), sync, 10, args.repeats
            )
            lstm[b]["per_window_us"] = round(lstm[b]["p50_us"] / b, 2)
        for scale in (int(s) for s in args.graph_scales.split(",")):
            nodes, edges = shapes["graph_nodes"] * scale, shapes["graph_edges"] * scale
            steps = max(3, args.repeats // 20)
            step = timed(rgcn_case(device, nodes, shapes["graph_relations"], edges), sync, 2, steps)
            rgcn[f"{nodes}_nodes_{edges}_edges"] = {"median_ms": round(step["p50_us"] / 1e3, 1), "steps": steps}
        report[device.type] = {"intent_forward": intent, "lstm_last_step": lstm, "rgcn_train_step": rgcn}
        print(json.dumps({device.type: report[device.type]}), flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
