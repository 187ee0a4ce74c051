"""Two processes on CPU (gloo) under torchrun: one version, one log, both ranks trained."""

import ast
import math
import os
import subprocess
import sys

import pytest

from harness.runlog.reader import read_log
from harness.train import distributed
from tests.tiny import ROOT, tiny_cli_args


@pytest.mark.slow
def test_torchrun_two_processes_write_one_log_and_one_version(workdir, corpus, cache_dir):
    env = {**os.environ, "RUN_CLM_CACHE": str(cache_dir), "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               str(ROOT / "run_clm.py"), *tiny_cli_args(workdir, corpus, "train.eval_strategy=epoch")]
    result = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]

    assert [p.name for p in (workdir / "logs").iterdir()] == ["1.0.log"]
    assert [p.name for p in (workdir / "outputs").iterdir()] == ["1.0"]
    assert (workdir / "outputs" / "1.0" / "model.safetensors").is_file()
    log = read_log(workdir / "logs" / "1.0.log")
    assert log.fields["status"] == "finished"
    assert log.sections["environment"]["world_size"] == 2
    text = (workdir / "logs" / "1.0.log").read_text()
    assert text.count("----- config -----") == 1 and text.count("status: finished") == 1
    losses = [ast.literal_eval(line) for line in text.splitlines() if line.startswith("{'loss'")]
    assert [entry["step"] for entry in losses] == [2, 4, 6, 8]  # each logged once, by rank 0
    assert all(math.isfinite(entry["loss"]) and 0 < entry["loss"] < 10 for entry in losses)
    # An epoch is ceil(blocks / (4 per device x 2 processes)) steps: half what one process would take.
    steps_per_epoch = math.ceil(log.sections["data"]["train_blocks"] / 8)
    assert losses[-1]["epoch"] == pytest.approx(8 / steps_per_epoch)
    assert math.isfinite(float(log.sections["summary"]["peak_memory_mb"]))


@pytest.mark.slow
def test_one_process_needs_no_process_group(monkeypatch, tmp_path):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert distributed.ensure_initialized() is False and distributed.is_main()
    assert distributed.trainer_defaults() == {}
    version, path = distributed.claim(tmp_path)
    assert version == "1.0" and path.is_file()
    assert distributed.NullLog().section("config", {"a": 1}) is None


_AGREE = """
import sys
from harness.errors import UserError
from harness.train import distributed

def step():
    if distributed.rank() == 0 and sys.argv[1] == "refuse":
        raise UserError("cannot resume 1.0: it is still running")  # rank 0 alone holds the log's lock
    return "plan"

try:
    print("went on with", distributed.agreed(step), flush=True)
except UserError as exc:
    print("refused:", exc, flush=True)
    sys.exit(2)
distributed.shutdown()
"""


def _two_ranks(mode: str) -> list[subprocess.CompletedProcess]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    procs = []
    for rank in (0, 1):
        env = {**os.environ, "WORLD_SIZE": "2", "RANK": str(rank), "LOCAL_RANK": str(rank), "OMP_NUM_THREADS": "1",
               "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "PYTHONPATH": str(ROOT)}
        procs.append(subprocess.Popen([sys.executable, "-c", _AGREE, mode], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=90), *p.communicate()) for p in procs]


@pytest.mark.slow
def test_a_refusal_on_rank_0_alone_stops_every_rank_at_once():
    """Without the agreement rank 1 would go on to the next collective and wait there for gloo's timeout."""
    for result in _two_ranks("refuse"):
        assert result.returncode == 2, result.stderr[-2000:]
        assert result.stdout.strip() == "refused: cannot resume 1.0: it is still running"
    assert [r.stdout.strip() for r in _two_ranks("go")] == ["went on with plan"] * 2
