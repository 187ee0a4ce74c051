"""Hostile logs, crashes at bad moments and careless input (issue 18): each case as a regression.

Logs are data from anywhere: reading one may not run code, hang, eat memory, or choose where we write.
Crashes leave a true status and nothing that blocks or fools a later run. Bad input is one `error:` line.
"""

import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time

import logfixtures as F
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from harness import versions
from harness.cli.main import main as cli_main
from harness.compare import load
from harness.compare.load import load_runs
from harness.errors import UserError
from harness.runlog.format import MAGIC
from harness.runlog.reader import parse, read_log
from harness.runlog.writer import RunLog, is_locked
from harness.train import pipeline
from harness.train.pipeline import Job
from tests.tiny import ROOT, TINY

BOUND = dict(capture_output=True, text=True, timeout=120)


def _limit_memory(gigabytes: float):
    """preexec_fn: the child may use at most this much address space (an alias bomb needs far more)."""
    def apply():
        limit = int(gigabytes * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply


def _harness(*args, cwd, memory_gb=2.0):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, env=env,
                          preexec_fn=_limit_memory(memory_gb), **BOUND)


def _one_error_line(result, *fragments, code=2):
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert lines and lines[-1].startswith("error: "), result.stderr[-3000:]
    for fragment in fragments:
        assert fragment in lines[-1], lines[-1]


def _recorded_config(compose, **changes) -> dict:
    config = OmegaConf.to_container(compose(), resolve=True)
    for dotted, value in changes.items():
        node = config
        *parents, last = dotted.split(".")
        for key in parents:
            node = node[key]
        node[last] = value
    return config


def _finished_log(path, config: dict, data: dict | None = None, version="v") -> None:
    log = RunLog.create(path)
    log.fields({"version": version, "status": "running", "output_dir": path.parent / "gone"})
    log.section("config", config)
    log.section("data", data or {"files": []})
    log.metrics("train", {"train_loss": 1.0, "epoch": 1.0})
    log.status("finished")
    log.close()


# ---- 1. a log never widens trust nor chooses where we write ----

EVIL = """import pathlib
pathlib.Path({marker!r}).write_text("the log's code ran")  # transformers imports a copy: an absolute path
from transformers import PretrainedConfig
class EvilConfig(PretrainedConfig):
    model_type = "evil"
"""


def _evil_model(root, pretrained):
    """A model directory whose config maps to its own Python file (what trust_remote_code would import)."""
    import shutil

    model = root / "evil-model"
    shutil.copytree(pretrained, model)  # a loadable tokenizer, so that the config is what decides
    (model / "evil.py").write_text(EVIL.format(marker=str(model / "RAN")))
    (model / "config.json").write_text(json.dumps({
        "model_type": "evil", "auto_map": {"AutoConfig": "evil.EvilConfig", "AutoModelForCausalLM": "evil.EvilConfig"}}))
    return model


def test_reproduce_never_runs_code_or_writes_where_a_log_says(compose, workdir, capsys, pretrained):
    from harness.rerun.reproduce import reproduce

    model = _evil_model(workdir, pretrained)
    elsewhere = workdir / "the-logs-choice"
    config = _recorded_config(compose, **{"model.name_or_path": str(model), "model.trust_remote_code": True,
                                          "paths.output_root": str(elsewhere / "out"),
                                          "paths.cache_dir": str(elsewhere / "cache")})
    (workdir / "logs").mkdir()
    _finished_log(workdir / "logs" / "v.log", config)
    with pytest.raises(UserError) as refused:
        reproduce("v", workdir / "logs")
    assert "cannot load model config" in str(refused.value)
    assert not (model / "RAN").exists() and not elsewhere.exists()
    assert "asked for model.trust_remote_code=true; re-running without it" in capsys.readouterr().err

    # The user's own --trust-remote-code is what lets it run: the test above could fail.
    with pytest.raises(Exception):
        reproduce("v", workdir / "logs", trust_remote_code=True)
    assert (model / "RAN").exists() and not elsewhere.exists()


# ---- 2. YAML alias bombs ----

def _alias_bomb(levels=9) -> str:
    lines = ["  lol0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"  lol{i}: &a{i} [{', '.join(f'*a{i - 1}' for _ in range(9))}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def bomb_logs(tmp_path):
    logs = tmp_path / "logs"
    text = F.runlog(version="3.5", parent=None).replace("----- config -----\n", "----- config -----\n" + _alias_bomb())
    F.write(logs / "3.5.log", text)
    F.write(logs / "3.4.log", F.runlog(version="3.4", parent=None, eval_loss=3.0))
    return logs


@pytest.mark.parametrize("args", [["table", "LOGS"], ["table", "LOGS", "--format", "json", "--no-cache"],
                                  ["show", "3.5", "--logs-dir", "LOGS", "--format", "json"],
                                  ["diff", "3.4", "3.5", "--logs-dir", "LOGS", "--format", "text"]])
def test_alias_bombs_are_refused_fast_and_small(bomb_logs, args):
    result = _harness(*[str(bomb_logs) if a == "LOGS" else a for a in args], cwd=bomb_logs.parent)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    if args[0] == "show":
        assert json.loads(result.stdout)["version"] == "3.5"


def test_alias_bomb_warning_names_file_and_line(bomb_logs):
    runs, warnings = load_runs([str(bomb_logs)])
    [warning] = [w for w in warnings if "alias" in w.message]
    assert warning.path.endswith("3.5.log") and warning.line > 1
    assert {r.version for r in runs} == {"3.4", "3.5"}  # the rest of the log still reads


def test_reproduce_of_a_bomb_is_one_line(bomb_logs):
    from harness.rerun.reproduce import load_recorded

    with pytest.raises(UserError, match="records no config"):
        load_recorded(bomb_logs, "3.5")


# ---- 3. resume after the data changed ----

@pytest.mark.slow
def test_resume_refuses_edited_data_unless_told(compose, workdir, corpus, interrupt_at_step):
    undo = interrupt_at_step(7)
    with pytest.raises(KeyboardInterrupt):
        pipeline.train(compose("version=d1", "train.save_steps=2"), Job(raw={"version": "d1"}))
    undo()
    corpus.write_text(corpus.read_text() + "\nan edit after the crash\n", encoding="utf-8")
    with pytest.raises(UserError, match="train file .* changed since the run"):
        pipeline.train(compose("resume=d1"), Job(raw={"resume": "d1"}, overrides=["resume=d1"]))
    assert not is_locked(workdir / "logs" / "d1.log")  # a refusal lets go of the lock
    overrides = ["resume=d1", "allow_changed_data=true"]
    pipeline.train(compose(*overrides), Job(raw={"resume": "d1"}, overrides=overrides))
    log = read_log(workdir / "logs" / "d1.log")
    assert log.fields["status"] == "finished"
    assert any("resumed with changed data" in w for w in log.lists["warning"])


# ---- 4. results that look good and are not ----

def test_zero_epochs_is_refused_up_front(compose):
    from harness.train.config import validate

    with pytest.raises(UserError, match="trains 0 steps"):
        validate(compose("train.num_train_epochs=0", "train.max_steps=-1"))
    validate(compose("train.num_train_epochs=0", "train.max_steps=5"))  # max_steps decides: fine


def test_a_zero_step_run_is_never_the_best(tmp_path):
    from harness.compare.review import review
    from harness.compare.table import build_table

    F.write(tmp_path / "0.1.log", F.runlog(version="0.1", parent=None, train_loss=0.0, losses=(), epochs=0.0))
    F.write(tmp_path / "0.2.log", F.runlog(version="0.2", parent=None, train_loss=2.5))
    runs, _ = load_runs([str(tmp_path)])
    table = build_table(runs)
    assert not any(key == "train_loss" and table.rows[i]["version"] == "0.1" for i, key in table.best)
    assert any("0.1: trained 0 steps" in remark for remark in review(runs))


def test_a_huge_log_keeps_its_tail(tmp_path):
    text = F.runlog(version="9.9", parent=None)
    head, tail = text.split("***** train metrics *****")
    periodic = "".join(f"{{'loss': 1.5, 'learning_rate': 1e-05, 'epoch': 0.1, 'step': {i}}}\n" for i in range(40_000))
    path = F.write(tmp_path / "9.9.log", head + periodic + "***** train metrics *****" + tail)
    max_bytes = 256 * 1024
    [run], warnings = load_runs([str(path)], max_bytes=max_bytes)
    assert run.status == "finished" and run.train_metrics["train_loss"] == 6.123456001281738
    assert any("in the middle skipped" in w.message for w in warnings)
    true_line = (head + periodic).count("\n") + 1
    assert run.lines["train_metrics"] == true_line  # line numbers after the gap still right
    raw = read_log(path, max_bytes=max_bytes)
    assert raw.fields["status"] == "finished" and raw.metrics["train"]["train_loss"] == 6.123456001281738


# ---- 5. two resumes of one version ----

def test_resume_takes_the_lock_before_deciding_anything(compose, workdir, monkeypatch):
    (workdir / "logs").mkdir()
    path = workdir / "logs" / "r.log"
    _finished_log(path, _recorded_config(compose), version="r")
    seen = []

    def spy(log_path, *args, **kwargs):
        seen.append(is_locked(log_path))
        raise RuntimeError("stop here")

    monkeypatch.setattr(pipeline, "read_log", spy)
    with pytest.raises(RuntimeError, match="stop here"):
        pipeline.resolve(compose("resume=r"), Job(raw={"resume": "r"}, overrides=["resume=r"]))
    assert seen == [True] and not is_locked(path)


def test_a_second_resume_while_the_first_holds_the_log_is_refused(compose, workdir):
    (workdir / "logs").mkdir()
    path = workdir / "logs" / "r.log"
    _finished_log(path, _recorded_config(compose), version="r")
    first = RunLog.append(path)  # the first resume, still setting up
    with pytest.raises(UserError, match="still running"):
        pipeline.resolve(compose("resume=r"), Job(raw={"resume": "r"}, overrides=["resume=r"]))
    first.close()


# ---- 6. half-written leftovers ----

SLOW_SETUP = """
import pathlib, sys, time
sys.path.insert(0, {root!r})
from harness.train import pipeline
def slow(session):
    pathlib.Path("SETUP").write_text("in setup")
    time.sleep(120)  # a long tokenizer training or model download, as far as the signal is concerned
pipeline._setup = slow
import run_clm
sys.argv = ["run_clm.py", *{args!r}]
sys.exit(run_clm.cli())
"""


@pytest.mark.slow
def test_sigterm_during_setup_exits_143_and_leaves_nothing(workdir, corpus, cache_dir):
    args = [f"data.train_file={corpus}", f"paths.cache_dir={cache_dir}", "version=t1", *TINY]
    process = subprocess.Popen([sys.executable, "-c", SLOW_SETUP.format(root=str(ROOT), args=args)], cwd=workdir,
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 120
    while not (workdir / "SETUP").exists():
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read() if process.poll() else ""
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143 and "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines()[-1] == "error: interrupted"
    assert not (workdir / "logs" / "t1.log").exists()


def test_an_abandoned_log_is_reclaimed_and_a_recorded_one_is_not(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "empty.log").write_text("")
    old = time.time() - 3600
    os.utime(logs / "empty.log", (old, old))
    (logs / "header.log").write_text(MAGIC + "\nversion: header\nstatus: running\n")
    (logs / "young.log").write_text("")  # another process may be about to lock it
    (logs / "kept.log").write_text(MAGIC + "\nstatus: running\n----- config -----\n  a: 1\n")
    assert versions.claim(logs, "empty")[0] == "empty" and (logs / "empty.log").stat().st_size == 0
    assert versions.claim(logs, "header")[0] == "header" and (logs / "header.log").read_text() == ""
    for name in ("young", "kept"):
        with pytest.raises(UserError, match="already exists"):
            versions.claim(logs, name)
    held = RunLog.append(logs / "header.log")  # a live run's header: never taken
    with pytest.raises(UserError, match="already exists"):
        versions.claim(logs, "header")
    held.close()


def test_appending_after_a_torn_line_starts_a_fresh_line(tmp_path):
    path = tmp_path / "torn.log"
    path.write_text(MAGIC + "\nstatus: running\n{'loss': 1.2, 'st")  # the disk filled mid-line
    log = RunLog.append(path)
    log.field("resumed", "2026-11-25T10:00:00+00:00 from outputs/torn/checkpoint-4")
    log.close()
    assert parse(str(path), path.read_text()).fields["resumed"].startswith("2026-11-25T10:00:00")


def test_a_multi_line_value_stays_one_entry(tmp_path):
    path = tmp_path / "m.log"
    log = RunLog.create(path)
    log.field("command", "python run_clm.py 'note=first line\nsecond line'")
    log.field("note", "first line\nsecond line")
    log.close()
    parsed = parse(str(path), path.read_text())
    assert len(parsed.lists["command"]) == 1 and parsed.lists["note"] == ["first line", "second line"]


def test_a_dead_writer_on_this_host_reads_interrupted_at_once(tmp_path):
    text = F.runlog(version="k1", parent=None, status="running", ended=False)
    text = text.replace("status: running\n", f"status: running\nhost: {socket.gethostname()}\npid: 1\n", 1)
    path = F.write(tmp_path / "k1.log", text)
    [run], _ = load_runs([str(path)])
    assert run.status == "interrupted"  # SIGKILLed a second ago: its lock is free
    live = RunLog.append(path)
    [run], _ = load_runs([str(path)])
    assert run.status == "running"
    live.close()
    other_host = F.write(tmp_path / "k2.log", text.replace(socket.gethostname(), "another-node").replace("k1", "k2"))
    [run], _ = load_runs([str(other_host)])
    assert run.status == "running"  # no lock to see across machines: only its age will tell


# ---- 7. one error line, never a traceback ----

@pytest.fixture
def bad_inputs(workdir, corpus_text):
    text = corpus_text
    broken = workdir / "broken.jsonl"
    broken.write_text("".join(json.dumps({"text": text[i * 400:(i + 1) * 400]}) + "\n" for i in range(40)) + '{"text": "cut\n')
    csv = workdir / "train.csv"
    csv.write_text("text\n" + "".join(json.dumps(text[i * 300:(i + 1) * 300]) + "\n" for i in range(40)))
    latin = workdir / "latin.txt"
    latin.write_bytes(text[:66_000].encode() + "\ncaf\xe9\n".encode("latin-1") + text[66_000:70_000].encode())
    (workdir / "a-file").write_text("not a directory")
    return workdir


@pytest.mark.slow
@pytest.mark.parametrize("args, fragment", [
    (["data.train_file=broken.jsonl"], "broken.jsonl as json"),
    (["data.train_file=train.csv", "data.validation_file={corpus}"], "must be of one kind"),
    (["data.train_file=latin.txt"], "is not UTF-8 text: line"),
    (["model.config_overrides.n_head=3"], "divisible by num_heads"),
    (["model.config_overrides.n_embd=-64"], "n_embd must be > 0"),
    (["model.config_overrides.n_layer=abc"], "n_layer='abc' is not valid"),
    (["model.config_overrides.n_positions=0"], "n_positions must be > 0"),
    (["paths.logs_dir=a-file/logs"], "Not a directory"),
    (["data.train_file=données.txt"], "quote the value"),
])
def test_careless_input_is_one_error_line(run_cli, bad_inputs, corpus, args, fragment):
    args = [a.replace("{corpus}", str(corpus)) for a in args]
    train = [] if any(a.startswith("data.train_file") for a in args) else [f"data.train_file={corpus}"]
    result = run_cli(*TINY, *train, *args)
    _one_error_line(result, fragment, code=1 if "Not a directory" in fragment else 2)
    assert not list((bad_inputs / "logs").glob("*.log")) if (bad_inputs / "logs").is_dir() else True


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_no_traceback(workdir, corpus, cache_dir, run_cli):
    warm = run_cli(f"data.train_file={corpus}", *TINY, "train.max_steps=1")  # caches filled before the limit
    assert warm.returncode == 0, warm.stderr[-2000:]
    limit = 24 * 1024  # bytes any one file may grow to: the log hits it mid-run, like a full disk
    result = subprocess.run([sys.executable, str(ROOT / "run_clm.py"), f"data.train_file={corpus}", *TINY],
                            cwd=workdir, env={**os.environ, "RUN_CLM_CACHE": str(cache_dir)},
                            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)), **BOUND)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert "Error executing job" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ") and "File too large" in result.stderr
    statuses = [read_log(p).fields["status"] for p in (workdir / "logs").glob("*.log")]
    assert sorted(statuses) == ["crashed", "finished"]  # the warm-up run, and the true word for this one


def test_a_non_utf8_note_is_written_not_a_traceback(tmp_path):
    path = tmp_path / "n.log"
    log = RunLog.create(path)
    log.field("note", "caf\udce9 au lait")  # how Python hands over a latin-1 byte from the command line
    log.status("finished")
    log.close()
    assert parse(str(path), path.read_text(encoding="utf-8")).fields["status"] == "finished"


# ---- 8. Markdown never passes raw HTML through ----

def test_markdown_output_escapes_html_from_logs(tmp_path, capsys):
    evil = "<script>alert(1)</script>"
    path = F.write(tmp_path / "logs" / "x1.log", F.runlog(version=evil, parent=None, note=evil))
    for args in (["table", str(tmp_path / "logs"), "--format", "markdown"],
                 ["show", str(path), "--format", "markdown"]):
        capsys.readouterr()
        assert cli_main(args) == 0
        out = re.sub(r"(`{3,})\n.*?\n\1", "", capsys.readouterr().out, flags=re.S)  # code blocks show text as is
        assert "<script>" not in out and "&lt;script>" in out
    from harness.train.sampling import render_markdown

    assert "<script>" not in render_markdown([{"version": "x1", "prompt": evil, "output": evil}])


# ---- every reader, any bytes: no exception, bounded time and memory ----

_YAMLISH = st.lists(st.sampled_from(["a: &x [1, 2]", "b: *x", "c: [*x, *x]", "- &y z", "- *y", "  d: 1", "e:",
                                     "'f': !!python/object:os.system x", "g: {h: *x}", "---"]), max_size=12)
_CHUNKS = st.one_of(st.binary(max_size=300), _YAMLISH.map(lambda ls: "\n".join(ls).encode()))


@settings(max_examples=80, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(prefix=st.sampled_from([MAGIC + "\n----- config -----\n", MAGIC + "\nstatus: running\n", "", "######## Version 1.0\n",
                               "***** train metrics *****\n", "{'loss': 1.0, 'step': 1}\n", "[INFO|trainer.py] x\n"]),
       body=_CHUNKS, indent=st.booleans())
def test_any_bytes_or_yaml_reach_every_reader_safely(tmp_path, prefix, body, indent):
    import tracemalloc

    if indent:
        body = b"\n".join(b"  " + line for line in body.split(b"\n"))
    path = tmp_path / "fuzz.log"
    path.write_bytes(prefix.encode() + body)
    tracemalloc.start()
    try:
        load.read_text_file(str(path))
        read_log(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20
