"""How long a run takes to say "not in the cache" when the hub cannot be reached, against plain transformers.

    python bench/bench_offline.py [--rounds 2] [--limit 120]

A model missing from an empty HF cache (`gpt2`), with no HF_HUB_OFFLINE set, and the hub endpoint
(HF_ENDPOINT) a local socket that either refuses connections or accepts and never answers. Timed, in fresh
processes, from start to exit:
- ours: `python run_clm.py model=gpt2` (the probe decides offline, then the one-line error);
- plain: `AutoConfig.from_pretrained("gpt2")`, what a script without the probe does (huggingface_hub's own
  timeouts and retries), stopped at --limit seconds;
- ours with HF_HUB_OFFLINE=1 (no probe at all), for the start-up cost alone.
Nothing leaves the machine: both endpoints are on 127.0.0.1.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLAIN = "from transformers import AutoConfig; AutoConfig.from_pretrained('gpt2')"


def timed(argv: list[str], env: dict, limit: float) -> tuple[float, str]:
    start = time.perf_counter()
    try:
        result = subprocess.run(argv, env=env, cwd=env["WORKDIR"], capture_output=True, text=True, timeout=limit)
        tail = (result.stderr.strip().splitlines() or [""])[-1]
    except subprocess.TimeoutExpired:
        tail = f"(still running after {limit:g} s: stopped)"
    return time.perf_counter() - start, tail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--limit", type=float, default=120.0, help="seconds before a process is stopped")
    args = parser.parse_args()

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        refused_port = probe.getsockname()[1]
    endpoints = {"refused": f"http://127.0.0.1:{refused_port}", "silent": f"http://127.0.0.1:{silent.getsockname()[1]}"}
    with tempfile.TemporaryDirectory() as tmp:
        base = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
        base.update(HF_HOME=str(Path(tmp) / "hf"), RUN_CLM_CACHE=str(Path(tmp) / "cache"), WORKDIR=tmp,
                    PYTHONPATH=str(ROOT))
        ours = [sys.executable, str(ROOT / "run_clm.py"), "model=gpt2"]
        plain = [sys.executable, "-c", PLAIN]
        cases = [(f"{who} / {name}", argv, {**base, "HF_ENDPOINT": url})
                 for name, url in endpoints.items() for who, argv in (("ours", ours), ("plain", plain))]
        cases.append(("ours / HF_HUB_OFFLINE=1", ours, {**base, "HF_HUB_OFFLINE": "1"}))
        times: dict[str, list[float]] = {}
        tails: dict[str, str] = {}
        for _ in range(args.rounds):
            for label, argv, env in cases:
                seconds, tails[label] = timed(argv, env, args.limit)
                times.setdefault(label, []).append(seconds)
    silent.close()
    for label, _, _ in cases:
        print(f"{label:28s} median {statistics.median(times[label]):6.2f} s  (n={len(times[label])})  "
              f"{tails[label][:110]}")


if __name__ == "__main__":
    main()
