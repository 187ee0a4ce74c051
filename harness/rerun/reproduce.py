"""Re-run a logged version from what its log recorded, and say whether it reproduced.

Before any compute is spent the recorded data files must still hash the same and the parent's weights must
still exist. The re-run is a new version (`3.4-r1`) with its own log; its metrics are compared with the
recorded ones key by key.
"""

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from harness import versions
from harness.compare import metric_kinds
from harness.errors import UserError
from harness.runlog.reader import read_log
from harness.train import checkpoints
from harness.train.config import CONF_DIR
from harness.train.data import changed_files

ENVIRONMENT_KEYS = ("python", "torch", "transformers", "datasets", "tokenizers", "accelerate", "peft", "device",
                    "device_name", "precision", "world_size", "git_commit", "git_dirty")


@dataclass
class Row:
    split: str
    key: str
    recorded: object
    reproduced: object
    ok: bool

    @property
    def difference(self):
        if isinstance(self.recorded, (int, float)) and isinstance(self.reproduced, (int, float)):
            return self.reproduced - self.recorded
        return None


@dataclass
class Outcome:
    version: str
    rerun: str
    rows: list[Row]
    environment: list[tuple] = field(default_factory=list)  # (key, recorded, now) that differ
    forced: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)  # what could not be checked (a notebook's data content)

    @property
    def reproduced(self) -> bool:
        return bool(self.rows) and all(row.ok for row in self.rows)


def load_recorded(logs_dir, version) -> dict:
    path = versions.log_path(logs_dir, version)
    if not path.is_file():
        raise UserError(f"no log for version {version} in {logs_dir}/")
    log = read_log(path)
    if not log.sections.get("config"):
        raise UserError(f"{path} records no config: it was not written by run_clm.py and cannot be re-run")
    if log.fields.get("status") != "finished":
        raise UserError(f"version {version} did not finish (status {log.fields.get('status')}): "
                        "there are no final metrics to reproduce")
    return log


def parent_weights_missing(log, logs_dir) -> str | None:
    """The parent version whose final weights are gone, if the run started from one."""
    parent = log.parent
    if parent is None:
        return None
    store = versions.LogStore(logs_dir)
    if store.link(parent).kind == versions.VERSION:
        weights = store.log(parent).fields.get("output_dir", "")
        return None if checkpoints.has_weights(weights) else parent
    if not Path(parent).exists():
        raise UserError(f"the run started from {parent}, which no longer exists")
    return None


def reproduce(version: str, logs_dir="logs", *, rtol=0.0, atol=0.0, force=False, chain=False,
              overrides=(), on_rerun=None, trust_remote_code=False) -> list[Outcome]:
    """Re-run `version` (and, with chain, its missing ancestors first); one Outcome per re-run."""
    log = load_recorded(logs_dir, version)
    forced = []
    problems = changed_files(log.sections.get("data"))
    if problems and not force:
        raise UserError(f"cannot reproduce {version}: {'; '.join(problems)} (--force re-runs anyway, and says so)")
    forced += problems
    outcomes, init_from = [], log.sections["config"].get("init_from")
    missing = parent_weights_missing(log, logs_dir)
    if missing is not None:
        if not chain:
            raise UserError(f"cannot reproduce {version}: the weights of its parent {missing} were deleted "
                            "(--chain re-runs the ancestors first)")
        outcomes += reproduce(missing, logs_dir, rtol=rtol, atol=atol, force=force, chain=True, on_rerun=on_rerun,
                              overrides=overrides, trust_remote_code=trust_remote_code)
        init_from = outcomes[-1].rerun
    rerun_version = _rerun(version, log, logs_dir, init_from, forced, overrides, on_rerun, trust_remote_code)
    rerun_log = read_log(versions.log_path(logs_dir, rerun_version))
    outcomes.append(Outcome(version, rerun_version, compare(log.metrics, rerun_log.metrics, rtol, atol),
                            environment_diff(log, rerun_log), forced))
    return outcomes


def _rerun(version, log, logs_dir, init_from, forced, overrides, on_rerun, trust_remote_code=False) -> str:
    from omegaconf import OmegaConf

    from harness.train.pipeline import Job, train

    rerun_version = next_rerun_name(logs_dir, version)
    notes = [f"reproduction of {version}"] + [f"--force: {p}" for p in forced]
    notes += [f"changed: {o}" for o in overrides]
    cfg = OmegaConf.create(log.sections["config"])
    notes += _narrow_trust(cfg, version, trust_remote_code)
    cfg.merge_with(OmegaConf.from_dotlist(list(overrides)))
    cfg.merge_with({"version": rerun_version, "init_from": init_from, "resume": None, "plan": False,
                    "note": "\n".join(notes), "paths": {"logs_dir": str(logs_dir)}})
    command = " ".join(["python -m harness reproduce", version, *(f"--set {o}" for o in overrides)])
    if on_rerun:
        on_rerun(version, rerun_version)
    raw = {"version": rerun_version, **({"init_from": str(init_from)} if init_from is not None else {})}
    train(cfg, Job(command=command, raw=raw))
    return rerun_version


def _narrow_trust(cfg, version: str, trust_remote_code: bool) -> list[str]:
    """A log is data from anywhere: it may not run code, write outside the user's paths, or publish.

    What the log asked for is replaced by the user's own defaults (conf/config.yaml's paths), code from the
    model directory runs only with --trust-remote-code, and nothing is pushed or reported anywhere."""
    from omegaconf import OmegaConf

    model = cfg.get("model") or {}
    asked = model.get("trust_remote_code") is True
    cfg.merge_with({"paths": user_paths(), "model": {"trust_remote_code": bool(trust_remote_code)}})
    for key, safe in (("push_to_hub", False), ("report_to", "none")):
        if key in (cfg.get("train") or {}):
            OmegaConf.update(cfg, f"train.{key}", safe)
    if asked and not trust_remote_code:
        print(f"warning: {version}'s log asked for model.trust_remote_code=true; re-running without it "
              "(pass --trust-remote-code to let the model directory's own code run)", file=sys.stderr)
        return ["trust_remote_code: off (the log asked for it; --trust-remote-code was not given)"]
    return ["trust_remote_code: on (--trust-remote-code)"] if trust_remote_code else []


def user_paths() -> dict:
    """Where this user's runs write: conf/config.yaml's paths (with $RUN_CLM_CACHE), never a log's."""
    from omegaconf import OmegaConf

    conf = CONF_DIR / "config.yaml"
    return OmegaConf.to_container(OmegaConf.load(conf).paths, resolve=True)


def next_rerun_name(logs_dir, version) -> str:
    taken = set(versions.existing(logs_dir))
    n = 1
    while f"{version}-r{n}" in taken:
        n += 1
    return versions.check_name(f"{version}-r{n}")


def compare(recorded: dict, reproduced: dict, rtol: float, atol: float) -> list[Row]:
    rows = []
    for split in sorted(set(recorded) | set(reproduced)):
        before, after = recorded.get(split, {}), reproduced.get(split, {})
        for key in sorted(set(before) | set(after)):
            if metric_kinds.is_cost(key):
                continue  # wall-clock figures never reproduce; everything else a run reports should
            a, b = before.get(key), after.get(key)
            rows.append(Row(split, key, a, b, _close(a, b, rtol, atol)))
    return rows


def _close(a, b, rtol, atol) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if math.isnan(a) and math.isnan(b):
            return True
        return a == b or math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
    return a == b


def environment_diff(recorded: dict, rerun: dict) -> list[tuple]:
    before = recorded.sections.get("environment") or {}
    after = rerun.sections.get("environment") or {}
    return [(k, before.get(k), after.get(k)) for k in ENVIRONMENT_KEYS if before.get(k) != after.get(k)]
