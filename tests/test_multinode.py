"""Multi-node training as README shows it, on this one machine: two torchrun "nodes" of one process each,
meeting through a c10d rendezvous on loopback (gloo), killed mid-way, resumed on two nodes again, and
matching an uninterrupted two-process run's metrics and weights exactly."""

import os
import socket
import subprocess
import sys

import psutil
import pytest
import torch
from safetensors.torch import load_file

from harness.runlog.reader import read_log
from tests.test_resume import EXACT, _metrics, _wait_for
from tests.tiny import ROOT, TINY

# A checkpoint every 8 steps, losses every 4: the kill lands past checkpoint-8 and before the end.
ARGS = [*TINY, "train.max_steps=24", "train.save_steps=8", "train.logging_steps=4"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(cache_dir) -> dict:
    env = {**os.environ, "RUN_CLM_CACHE": str(cache_dir), "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    return env


def _torchrun(launch: list[str], workdir, cache_dir, *args) -> subprocess.Popen:
    command = [sys.executable, "-m", "torch.distributed.run", *launch, str(ROOT / "run_clm.py"), *args]
    return subprocess.Popen(command, cwd=workdir, env=_env(cache_dir), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def _two_nodes(workdir, cache_dir, *args) -> list[subprocess.Popen]:
    """`torchrun --nnodes 2 --nproc_per_node 1 --rdzv_backend c10d` twice, as on two machines."""
    port, run_id = _free_port(), f"test{os.getpid()}"
    launch = ["--nnodes", "2", "--nproc_per_node", "1", "--rdzv_backend", "c10d",
              "--rdzv_endpoint", f"127.0.0.1:{port}", "--rdzv_id", run_id, "--max_restarts", "0"]
    return [_torchrun(launch, workdir, cache_dir, *args) for _ in range(2)]


def _finish(processes: list[subprocess.Popen], timeout: float = 300) -> None:
    for process in processes:
        _, stderr = process.communicate(timeout=timeout)
        assert process.returncode == 0, stderr[-3000:]


def _kill_trees(processes: list[subprocess.Popen]) -> None:
    """SIGKILL each torchrun agent and its workers (torchrun starts them in sessions of their own)."""
    for process in processes:
        try:
            tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for proc in tree:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        process.wait(timeout=30)
        # The workers too must be gone before a resume starts: a dying one still holds the log's lock.
        psutil.wait_procs(tree, timeout=30)


def _weights(workdir, version) -> dict:
    return load_file(workdir / "outputs" / version / "model.safetensors")


@pytest.mark.slow
def test_two_nodes_killed_then_resumed_under_torchrun_match_an_uninterrupted_two_process_run(workdir, cache_dir, corpus):
    reference = _torchrun(["--standalone", "--nproc_per_node", "2"], workdir, cache_dir, f"data.train_file={corpus}",
                          "version=ref", *ARGS)
    _finish([reference])

    log_path = workdir / "logs" / "mn.log"
    nodes = _two_nodes(workdir, cache_dir, f"data.train_file={corpus}", "version=mn", *ARGS)
    try:
        _wait_for(lambda: log_path.exists() and "'step': 12}" in log_path.read_text(), nodes[0], timeout=240)
        log = read_log(log_path)
        assert log.sections["environment"]["world_size"] == 2  # two nodes, one process each, one run
    finally:
        _kill_trees(nodes)  # both machines lose power
    assert read_log(log_path).fields["status"] == "running"  # SIGKILL: nothing could say otherwise
    assert sorted(p.name for p in (workdir / "logs").glob("*.log")) == ["mn.log", "ref.log"]

    _finish(_two_nodes(workdir, cache_dir, "resume=mn"))  # both nodes again, each told only the version
    text = log_path.read_text()
    assert read_log(log_path).fields["status"] == "finished" and "checkpoint-8" in read_log(log_path).fields["resumed"]
    expected = _metrics((workdir / "logs" / "ref.log").read_text())
    assert all(expected.values()) and _metrics(text) == expected, (EXACT, expected, _metrics(text))
    a, b = _weights(workdir, "ref"), _weights(workdir, "mn")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
