"""Versions named on the command line -> the Runs behind them (shared by `show`, `diff` and `plot`).

Inputs are `--logs-dir` (default `logs/`), plus any paths given as extra arguments or with `--from`
(notebooks, Trainer stdout, Trainer output directories...). A version is looked up among the runs all
inputs hold; an argument that is no known version but an existing path stands for the one run that file
holds. Nothing here imports torch, transformers or matplotlib.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field

from harness import versions
from harness.compare.records import RUNLOG, ParseWarning, Run, version_key
from harness.errors import UserError

DEFAULT_LOGS_DIR = "logs"


@dataclass
class Inputs:
    runs: list[Run]
    warnings: list[ParseWarning]
    paths: list[str]  # what was read, for messages
    extra: list[str] = field(default_factory=list)  # the paths given besides the logs directory
    logs_dir: str | None = None
    stale_after: float = 30.0

    def describe(self) -> str:
        return ", ".join(self.paths) or "(nothing)"


def input_paths(logs_dir: str | None, extra: list[str]) -> tuple[list[str], str | None]:
    """The paths to read; a missing explicit path is an error, a missing default `logs/` is not
    (unless nothing else was given)."""
    missing = [p for p in extra if not os.path.exists(p)]
    if missing:
        raise UserError(f"no such file or directory: {', '.join(missing)}")
    paths = list(dict.fromkeys(extra))
    used_logs = None
    if logs_dir is not None:
        if not os.path.isdir(logs_dir):
            raise UserError(f"no such logs directory: {logs_dir}")
        used_logs = logs_dir
    elif os.path.isdir(DEFAULT_LOGS_DIR):
        used_logs = DEFAULT_LOGS_DIR
    elif not extra:
        raise UserError(f"no {DEFAULT_LOGS_DIR}/ directory here: run from the project directory, "
                        "or pass --logs-dir DIR or --from PATH")
    if used_logs is not None and used_logs not in paths:
        paths.insert(0, used_logs)
    return paths, used_logs


def load(logs_dir: str | None, extra: list[str], stale_after: float = 30.0, use_cache: bool = True) -> Inputs:
    from harness.compare.cache import load_runs

    if stale_after < 0:
        raise UserError("--stale-after must be >= 0 minutes")
    paths, used_logs = input_paths(logs_dir, extra)
    runs, warnings = load_runs(paths, stale_after=stale_after, enabled=use_cache)
    return Inputs(runs, warnings, paths, list(extra), used_logs, stale_after)


def is_path_spec(spec: str) -> bool:
    """An argument that names a file or directory rather than a version: it exists and looks like a path."""
    if not os.path.exists(spec):
        return False
    return os.sep in spec or "/" in spec or os.path.isdir(spec) or spec.endswith((".log", ".txt", ".json"))


def split_specs(specs: list[str]) -> tuple[list[str], list[str]]:
    """(versions, paths) among command-line arguments."""
    versions, paths = [], []
    for spec in specs:
        (paths if is_path_spec(spec) else versions).append(spec)
    return versions, paths


def close_matches(version: str, runs: list[Run]) -> list[str]:
    known = sorted({r.version for r in runs}, key=version_key)
    return difflib.get_close_matches(version, known, n=5, cutoff=0.5)


def unknown_version(version: str, inputs: Inputs) -> UserError:
    known = sorted({r.version for r in inputs.runs}, key=version_key)
    matches = close_matches(version, inputs.runs)
    if matches:
        hint = f"; did you mean {', '.join(matches)}?"
    elif known:
        shown = known if len(known) <= 12 else known[:6] + ["..."] + known[-5:]
        hint = f"; versions there: {', '.join(shown)}"
    else:
        hint = "; no versions found there"
    return UserError(f"unknown version {version} in {inputs.describe()}{hint}")


def pick(spec: str, inputs: Inputs) -> Run:
    """The one run for a version (or for a path that holds one run). Several disagreeing records of one
    version: the run log, else an error asking to narrow the input."""
    if is_path_spec(spec):
        return run_of_path(spec, inputs)
    found = [r for r in inputs.runs if r.version == spec]
    if not found:
        raise unknown_version(spec, inputs)
    if len(found) == 1:
        return found[0]
    logs = [r for r in found if r.source_kind == RUNLOG]
    if len(logs) == 1:
        return logs[0]
    where = ", ".join(r.where for r in (logs or found))
    raise UserError(f"version {spec} appears {len(logs or found)} times with different numbers ({where}); "
                    "narrow the input with --logs-dir/--from, or name the file")


def runs_of_path(path: str, runs: list[Run]) -> list[Run]:
    """The runs read from `path` (a file, or anything under a directory), merged records included."""
    target = os.path.normpath(os.path.abspath(path))
    if os.path.isfile(target) and target.endswith(".json"):
        target = os.path.dirname(target)  # Trainer's JSON files make one run of their directory

    def inside(source: str) -> bool:
        source = os.path.normpath(os.path.abspath(source.rsplit(":", 1)[0] if not os.path.exists(source)
                                                  else source))
        return source == target or source.startswith(target + os.sep)

    return [r for r in runs if inside(r.source) or any(inside(m) for m in r.merged_from)]


def run_of_path(path: str, inputs: Inputs) -> Run:
    runs = runs_of_path(path, inputs.runs)
    if len(runs) == 1:
        return runs[0]
    if not runs:
        raise UserError(f"{path} holds no run")
    versions = ", ".join(dict.fromkeys(r.version for r in runs))
    raise UserError(f"{path} holds several versions ({versions}); name one of them and pass the file "
                    "as an input (PATH or --from)")


def by_version(runs: list[Run]) -> dict[str, Run]:
    """The leading record per version (run log first, then in load order)."""
    out: dict[str, Run] = {}
    for run in sorted(runs, key=lambda r: (r.source_kind != RUNLOG,)):
        out.setdefault(run.version, run)
    return out


def ancestors(run: Run, runs: list[Run]) -> list[tuple[str, Run | None]]:
    """(version, run) from the root down to `run`'s parent; a parent not among the inputs ends the chain
    with run None. Cycles stop where they repeat."""
    index = by_version(runs)
    links = versions.walk_up(run.parent, lambda v: index[v].parent, index.__contains__, start=run.version)
    return [(link.name, index.get(link.name)) for link in links if link.kind != versions.CYCLE][::-1]


def children(run: Run, runs: list[Run]) -> list[str]:
    return sorted({r.version for r in runs if r.parent == run.version and r.version != run.version},
                  key=version_key)
