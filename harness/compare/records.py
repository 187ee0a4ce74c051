"""The records every reader produces: one `Run` per version found, and `ParseWarning`s for what was odd.

Readers (harness/compare/load.py) fill these from any input shape; commands (table, lineage, show, diff, plot)
only ever look at these fields, never at the raw text.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from dataclasses import dataclass, field
from typing import Any

_CHUNK_RE = re.compile(r"\d+|[^\d.]+")

# Where a Run came from.
RUNLOG = "runlog"
TRAINER_STDOUT = "trainer_stdout"
NOTEBOOK = "notebook"
TRAINER_JSON = "trainer_json"
REPORT = "report"  # hand-kept text: Markdown reports, model cards, pasted tables and results lists
JUPYTER = "jupyter"  # a saved .ipynb
OTHER_TRAINER = "other_trainer"  # files other trainers write (LLaMA-Factory, Lightning, TensorBoard)
SOURCE_KINDS = (RUNLOG, TRAINER_STDOUT, NOTEBOOK, TRAINER_JSON, REPORT, JUPYTER, OTHER_TRAINER)


@dataclass(frozen=True, order=True)
class ParseWarning:
    """Something a reader could not use. `line` is 1-based; 0 when the problem is the whole file."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


ENCODED = "_encoded"  # the instance attribute holding a cached run's still-encoded fields


@dataclass
class Run:
    """One version of a model, as far as its log tells. Unknown things are None or empty, never guessed.

    Units: runtimes in seconds, `total_flos` in Trainer's "GF" (2**30 FLOPs), memory in MB (2**20 bytes).
    """

    version: str
    source: str
    source_kind: str
    line: int = 1  # where this run starts in `source` (a notebook holds many)
    parent: str | None = None
    status: str | None = None  # running | finished | crashed | interrupted | stale | None (unknown)
    started: str | None = None
    ended: str | None = None
    notes: str = ""
    commands: list[str] = field(default_factory=list)
    args: dict[str, Any] = field(default_factory=dict)  # the effective command's options, as parsed
    fields: dict[str, str] = field(default_factory=dict)  # run-log fields not given a slot below
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # warnings the run itself logged
    resumed: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)  # periodic dicts, in file order
    train_metrics: dict[str, Any] = field(default_factory=dict)
    eval_metrics: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    samples: list[Any] = field(default_factory=list)
    bench: dict[str, Any] = field(default_factory=dict)  # `harness bench`: variant (fp32, int8, ...) -> measurements
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # first line of each field/section/block
    mtime: float | None = None
    merged_from: list[str] = field(default_factory=list)  # other sources that agreed with this one
    epochs: float | None = None  # this run's epochs: final `epoch` metric, else num_train_epochs
    cumulative_epochs: float | None = None  # along the parent chain; None when a link is unknown
    remarks: list[list] | None = None  # [rank, text]: what its own record shows wrong (remarks.py); None: unchecked

    def __getattr__(self, name: str) -> Any:
        """Only for a field not yet in the instance: the parse cache keeps a run's bulky fields (its config,
        history, line numbers...) encoded until first used (harness/compare/codec.py); a table never reads them."""
        encoded = self.__dict__.pop(ENCODED, None)
        if encoded is None:
            raise AttributeError(f"'Run' object has no attribute {name!r}")
        from harness.compare.codec import decode  # the codec builds Runs: imported here, not at the top

        try:
            decoded = decode(encoded)
        except ValueError:
            decoded = None
        damaged = not isinstance(decoded, dict)  # a damaged cache entry: what it held is unknown, never an error
        self.__dict__.update({} if damaged else decoded)
        for f in dataclasses.fields(self):
            if f.name not in self.__dict__ and f.default_factory is not dataclasses.MISSING:
                self.__dict__[f.name] = f.default_factory()
        if damaged:
            self.warnings.append("parse cache entry unreadable: run with --no-cache to read the file again")
        return getattr(self, name)

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line > 1 else self.source

    def metric(self, key: str) -> Any:
        """A final metric by its Trainer name (`eval_loss`, `train_runtime`, `perplexity`, ...)."""
        if key in self.eval_metrics:
            return self.eval_metrics[key]
        return self.train_metrics.get(key)


def number(value: Any) -> float | None:
    """A log value as a float when it is a number (a bool is not one); None otherwise."""
    kind = type(value)
    if kind is float:  # the common cases first: a table asks this of every cell
        return value
    if kind is bool or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer of more than 308 digits: shown as written, never ranked
        return None


def finite_number(value: Any) -> float | None:
    """As `number`, with nan and inf as None (an epoch count, a hyper-parameter on a plot axis)."""
    found = number(value)
    return found if found is not None and math.isfinite(found) else None


@functools.lru_cache(maxsize=2**16)  # sorting, lineage and review each ask it of every run
def version_key(version: str) -> tuple:
    """Natural order: `2.9` < `2.10` < `10.0`; text parts compare as text, after numbers."""
    parts = []
    for chunk in _CHUNK_RE.findall(version or ""):
        parts.append((0, int(chunk), "") if chunk.isdigit() else (1, 0, chunk))
    return tuple(parts)


