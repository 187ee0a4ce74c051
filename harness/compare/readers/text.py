"""Readers for free-form text: Trainer stdout saved to a file, and hand-kept notebooks of many versions.

Both are scanned by `scan`, which picks out what Trainer printed (periodic dicts, metrics blocks, the
`***** Running training *****` banner), launch commands, and tracebacks; what is left is prose (notes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from harness.compare import cmdline
from harness.compare.readers import Reader, Result, is_text_log, lines_of, pieces, stem
from harness.compare.records import NOTEBOOK, TRAINER_STDOUT, ParseWarning, Run
from harness.runlog.trainer_text import find_periodic, is_progress, metrics_header, metrics_line

# `######## Version 2.7 ########`, `=== v3 ===`, `## Versión 1.2: lr sweep ##`
BANNER_RE = re.compile(
    r"^[ \t]*(?:[#=*~]+|-{3,})[ \t]*(?:version|versi[oó]n|ver\.?|v)[ \t]*[:#.]?[ \t]*"
    r"([A-Za-z0-9][A-Za-z0-9._+-]*)(?:[ \t]*[#=*~-]*[ \t]*|[ \t]+[^\n]*?[#=*~]{2,}[ \t]*)$",
    re.IGNORECASE | re.MULTILINE,
)
_DECORATION_RE = re.compile(r"[ \t]*[#=*~-]{3,}[ \t]*")
TRAINER_MARK_RE = re.compile(
    r"\*{5} (?:\w+ metrics|Running training) \*{5}"
    r"|\{\s*['\"](?:loss|eval_\w+|train_runtime|epoch)['\"]\s*:"
)
_TRAINER_KEY_RE = re.compile(r"['\"](?:loss|eval_\w+|train_\w+|epoch|learning_rate|grad_norm)['\"]\s*:")
_TRAINER_KEYS = {"loss", "epoch", "step", "learning_rate", "grad_norm", "train_runtime", "train_loss"}
_DICT_KEY_RE = re.compile(r"""['"]([A-Za-z_][\w./-]*)['"]\s*:""")
_CHATTER_RE = re.compile(r"\s{2,}[A-Z][^=]*? = \S+\s*$|.*\*{5} Running \w+ \*{5}")
_INFO = (
    (re.compile(r"Num Epochs = ([\d.]+)"), "num_train_epochs"),
    (re.compile(r"Instantaneous batch size per device = (\d+)"), "per_device_train_batch_size"),
    (re.compile(r"Gradient Accumulation steps = (\d+)"), "gradient_accumulation_steps"),
    (re.compile(r"Total train batch size \(.*\) = (\d+)"), "total_train_batch_size"),
)


@dataclass
class Scan:
    """What one stretch of text holds."""

    commands: list[tuple[int, str]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)  # hyper-parameters Trainer or a report stated
    arguments: dict[str, Any] = field(default_factory=dict)  # TrainingArguments(...) keywords, code or repr
    prose: list[str] = field(default_factory=list)
    traceback: str | None = None  # the exception line, when a traceback was pasted
    progress: tuple[int, int, float | None] | None = None  # the last (step, total, epoch) a bar showed
    lines: dict[str, int] = field(default_factory=dict)

    def has_numbers(self) -> bool:
        return bool(self.history or self.metrics or self.info or self.arguments)

    def stopped_early(self) -> bool:
        """A training run that crashed before it logged anything: a progress bar and its arguments."""
        return bool(self.progress and (self.arguments or self.info) and self.traceback)


def banner_version(line: str) -> str | None:
    m = BANNER_RE.match(line)
    if not m:
        return None
    version = m.group(1).rstrip("._+-")
    if len(version) > 1 and version[0] in "vV" and version[1].isdigit():
        version = version[1:]
    return version or None


def _command_at(lines: list[str], i: int) -> tuple[str, int]:
    """The command starting at line i, with `\\` continuation lines joined; (text, next index)."""
    parts = [lines[i].strip()]
    while parts[-1].endswith("\\") and i + 1 < len(lines):
        i += 1
        parts[-1] = parts[-1][:-1]
        parts.append(lines[i].strip())
    text = " ".join(p.strip() for p in parts)
    return re.sub(r"^\s*[$>%!]\s*", "", text), i + 1


_RESULTS_INTRO_RE = re.compile(r"result|metric|achieve|evaluation|score|performance|résultat|resultado|ergebnis",
                               re.IGNORECASE)
_MODEL_NAME_RE = re.compile(r'"_name_or_path"\s*:\s*"([^"]+)"')
_BASE_MODEL_RE = re.compile(r"fine-tuned version of \[([^\]]+)\]|from_pretrained\(\s*['\"]([^'\"]+)['\"]"
                            r"|\b(?:model_name|model_checkpoint|model_id|base_model|model_name_or_path)\s*=\s*"
                            r"['\"]([^'\"]+)['\"]|from_pretrained\(\s*([A-Za-z_]\w*)\s*(?:[,)]|$)")
# What loads a tokenizer or processor names the model only when nothing loads the model itself.
_NOT_THE_MODEL_RE = re.compile(r"(?:Tokenizer|Processor|FeatureExtractor)\w*\.from_pretrained\(")
# `batch_size = 8`, `checkpoint = "org/name"  # comment`: a name code later passes (`per_device_train_batch_size=
# batch_size`, `from_pretrained(checkpoint)`), whose value is then the text's own.
_ASSIGNED_RE = re.compile(r"\s*([A-Za-z_]\w*)\s*=\s*(\"[^\"\n]*\"|'[^'\n]*'|[-+]?\.?\d[\w.+-]*)\s*(?:#.*)?$")
# `loading configuration file https://huggingface.co/roberta-large/resolve/main/config.json`, or from the
# hub cache `.../models--org--name/snapshots/...`: the checkpoint Trainer's INFO lines say was loaded.
_LOADED_MODEL_RE = re.compile(r"loading (?:configuration|weights) file .*?(?:huggingface\.co/([\w.-]+(?:/[\w.-]+)?)/resolve/"
                              r"|models--([\w.-]+?(?:--[\w.-]+)?)[/\\]snapshots[/\\])")  # `\` on Windows
# The prefix Python logging puts in front of a message: transformers' `[INFO|trainer.py:2314] 2024-03-01
# 12:00:00,000 >> `, the example scripts' `03/01/2024 12:00:00 - INFO - __main__ - `, the default `INFO:root:`.
_LOGGER_PREFIX_RE = re.compile(
    r"\[(?:INFO|WARNING|WARN|DEBUG|ERROR|CRITICAL)\|[^\]]*\][^>\n]*>> ?"
    r"|\d\d/\d\d/\d{4} \d\d:\d\d:\d\d - [A-Z]+ - [\w.]+ - ?"
    r"|(?:INFO|WARNING|DEBUG|ERROR):[\w.]+: ?"
)
_LOOSE_STARTS = frozenset("etpvETPV'\"")  # how `eval_x = 1`, `"train_loss": 2`, `epoch: 3` can start
_COUNTER_STARTS = frozenset("eEsSiI[(")  # how a loop's `Epoch 2: ...`, `step 250: ...`, `[iter 10] ...` start
MAX_REGION_LINES = 400  # a dict or call spread over more lines than this is not one we read


class _Scanner:
    def __init__(self, path: str, lines: list[str], first_lineno: int, warnings: list[ParseWarning]):
        self.path = path
        self.lines = lines
        self.first = first_lineno
        self.warnings = warnings
        self.scan = Scan()
        self.block: dict[str, Any] | None = None
        self.table: list[str] | None = None  # column names while inside a progress table
        self.splits: tuple[str, list[str]] | None = None  # inside a table of one run's splits (pieces.splits_header)
        self.epoch: Any = None  # the epoch a loop's last counter line named (Keras' bar lines follow it)
        self.commas: dict[str, bool] = {}  # how that table writes commas (pieces.table_row)
        self.results_list = False  # inside a list introduced by "... results ...:"
        self.assigned: dict[str, Any] = {}  # `name = literal` lines seen so far (code a notebook or report quotes)
        self.loaded: str | None = None  # a tokenizer's or processor's checkpoint: the model when nothing else says

    def run(self) -> Scan:
        i, lines = 0, self.lines
        while i < len(lines):
            i = self.line(i, lines[i])
        if self.loaded:
            self.scan.info.setdefault("model", self.loaded)
        return self.scan

    def line(self, i: int, line: str) -> int:
        lineno = self.first + i
        if self.block is not None:
            item = metrics_line(line)
            if item is not None and (" =" in line or not line.lstrip()[:1].isupper()):  # not Slurm's Key=value
                self.block[item[0]] = item[1]
                return i + 1
            self.block = None
        if self.table is not None:
            if self.table_line(lineno, line):
                return i + 1
            self.table = None
        if self.splits is not None:
            if pieces.is_rule(line) or self.splits_line(line):
                return i + 1
            self.splits = None
        split = metrics_header(line)
        if split:
            self.block = self.scan.metrics[split] = {}
            self.scan.lines.setdefault(f"{split}_metrics", lineno)
        elif "{" in line and "}" not in line and line.rstrip().endswith(("{", ",")):
            return self.multiline_dict(i)
        elif "{" in line and self.periodic(lineno, line):
            pass
        elif ".py" in line and cmdline.looks_like_command(line):
            command, nxt = _command_at(self.lines, i)
            self.scan.commands.append((lineno, command))
            return nxt
        elif ("Arguments(" in line or "Config(" in line) and pieces.ARGS_CALL_RE.search(line):
            return self.arguments(i)
        else:
            self.other(lineno, line)
        return i + 1

    def periodic(self, lineno: int, line: str) -> bool:
        """True when the line was a Trainer dict (read, or reported as unreadable)."""
        found, _ = find_periodic(line)
        if found is None and _TRAINER_KEY_RE.search(line):
            found = self.loose_dict(lineno, line[line.find("{"):])
            if not found:
                self.warnings.append(ParseWarning(self.path, lineno, "Trainer dict is not readable (truncated?)"))
                return True
        if found is not None and (_TRAINER_KEYS & found.keys() or any(k.startswith("eval_") for k in found)):
            self.scan.history.append(found)
            self.scan.lines.setdefault("training", lineno)
            return True
        return False

    def loose_dict(self, lineno: int, text: str) -> dict[str, Any]:
        """A dict with values Python cannot read back (`array([...])`, `tensor(0.5)`): its scalars, by
        pattern; when it is Trainer's, keys whose value is not a scalar are named in a warning."""
        found = pieces.loose_items(text)
        if not (_TRAINER_KEYS & found.keys() or any(k.startswith("eval_") for k in found)):
            return found
        skipped = [k for k in dict.fromkeys(_DICT_KEY_RE.findall(text)) if k not in found]
        if skipped:
            self.warnings.append(ParseWarning(self.path, lineno, f"not a number, left out: {', '.join(skipped[:5])}"))
        return found

    def region(self, i: int, opener: int) -> tuple[str, int] | None:
        """The text from line i's bracket at `opener` to its closing bracket, and the index after it."""
        end = min(len(self.lines), i + MAX_REGION_LINES)
        text = "\n".join(self.lines[i:end])
        close = pieces.balanced_end(text, opener)
        if close is None:
            return None
        return text[opener:close], i + text.count("\n", 0, close) + 1

    def arguments(self, i: int) -> int:
        line = self.lines[i]
        m = pieces.ARGS_CALL_RE.search(line)
        found = self.region(i, m.end() - 1)
        if found is None:
            self.other(self.first + i, line)
            return i + 1
        text, nxt = found
        for key, value in pieces.call_kwargs(text[1:-1], self.assigned).items():
            self.scan.arguments.setdefault(key, value)
        self.scan.lines.setdefault("arguments", self.first + i)
        return nxt

    def multiline_dict(self, i: int) -> int:
        """A dict printed over several lines (pprint, json.dumps(indent=2), a model config dump)."""
        line = self.lines[i]
        found = self.region(i, line.find("{"))
        if found is None or found[1] == i + 1:
            self.other(self.first + i, line)
            return i + 1
        text, nxt = found
        name = _MODEL_NAME_RE.search(text)
        if name and "Config" in line:
            self.scan.info.setdefault("model", name.group(1))
            return nxt
        items = self.loose_dict(self.first + i, text)
        if _TRAINER_KEYS & items.keys() or any(k.startswith("eval_") for k in items):
            self.scan.history.append(items)
            self.scan.lines.setdefault("training", self.first + i)
            return nxt
        if items or text.count("\n") > 1:
            return nxt  # some other structure: not a person's notes either
        self.other(self.first + i, line)
        return i + 1

    def table_line(self, lineno: int, line: str) -> bool:
        if pieces.is_rule(line):
            return True
        row = pieces.table_row(line, self.table, self.commas)
        if row is None:
            if line.lstrip().startswith("|"):  # still the table's shape, but not a row of numbers we can read
                self.warnings.append(ParseWarning(self.path, lineno, "table row not read (cells do not fit the "
                                                                     "header, or are not numbers)"))
                return True
            return False
        self.scan.history.append(row)
        return True

    def splits_line(self, line: str) -> bool:
        found = pieces.splits_row(line, self.splits)
        for key, value in found or []:
            self.stated("metric", key, value, isinstance(line, pieces.CodeLine))
        return found is not None

    def other(self, lineno: int, line: str) -> None:
        scan = self.scan
        if "Traceback (most recent call last)" in line:
            scan.traceback = scan.traceback or "Traceback"
            scan.lines.setdefault("traceback", lineno)
        elif scan.traceback == "Traceback" and re.match(r"[A-Za-z_][\w.]*(Error|Exception|Interrupt)\b", line):
            scan.traceback = line.strip()
        logged = _LOGGER_PREFIX_RE.match(line) if line[:1] in "[0123456789IWDE" else None
        if logged:  # a logging call's message: what it says counts, but it is never a person's note
            line = line[logged.end():]
        if " = " in line:
            if (assigned := _ASSIGNED_RE.match(line)) is not None:
                name, raw = assigned.groups()
                value = raw[1:-1] if raw[0] in "'\"" else pieces.to_number(raw)
                if value is not None:
                    self.assigned[name] = value
            for regex, key in _INFO:
                m = regex.search(line)
                if m:
                    scan.info[key] = float(m.group(1)) if "." in m.group(1) else int(m.group(1))
            if _CHATTER_RE.match(line):
                return
        if "/" in line:
            found = pieces.progress(line)
            # The training bar has the largest total; evaluation bars in between must not replace it.
            if found is not None and (scan.progress is None or found[1] >= scan.progress[1]):
                scan.progress = found
        if logged:
            self.logged(line)
            return
        if self.epoch is not None and line.lstrip()[:1].isdigit() and (metrics := pieces.keras_line(line)):
            self.scan.history.append({"epoch": self.epoch, **metrics})  # a progress bar, with the epoch's numbers
            return
        if is_progress(line) or self.numbers(lineno, line):
            return
        stripped = line.strip()
        if stripped and not _DECORATION_RE.fullmatch(line) and not pieces.is_log_line(line):
            scan.prose.append(stripped)

    def numbers(self, lineno: int, line: str) -> bool:
        """Metrics or hyper-parameters a person pasted or wrote: True when the line was one."""
        stripped = line.lstrip()
        if not stripped:
            return False
        code = isinstance(line, pieces.CodeLine)  # a notebook's code: no results in it, settings yes
        if stripped[0] in _LOOSE_STARTS and ("=" in line or ":" in line) and (item := pieces.loose_metric(line)):
            self.stated("metric", *item, code)
            return True
        if stripped[0] in _COUNTER_STARTS and not code and (counter := pieces.counter_line(line)):
            self.counted(*counter)
            return True
        several = pieces.pairs(line) if line.count(":") + line.count("=") >= 2 else []
        if several or (stripped[0] in "-*•+0123456789" and (one := pieces.bullet(line, self.results_list))):
            for kind, key, value in several or [one]:
                self.stated(kind, key, value, code)
            return True
        if stripped[0] == "|" and line.count("|") == 3 and (row := pieces.setting_row(line)):
            self.stated(*row)
            return True
        if stripped[0] == "|" and (layout := pieces.splits_header(line)):
            self.splits = layout
            return True
        if "oss" in line and (names := pieces.table_header(line)):
            self.table, self.commas = names, {}
            self.scan.lines.setdefault("training", lineno)
            return True
        self.results_list = stripped.endswith(":") and bool(_RESULTS_INTRO_RE.search(line))
        self.model(line)
        return False

    def counted(self, word: str, count: Any, total: int | None, metrics: dict[str, Any]) -> None:
        """A loop's progress line (pieces.counter_line) is a history entry: the last one is the run's result.
        Stated, the first epoch's numbers would win (a report states each result once). `Epoch 2/10` alone is
        Keras' heading for the bar line that follows (pieces.keras_line)."""
        if word == "epoch":
            self.epoch = count
            if total:
                self.scan.info.setdefault("num_train_epochs", total)
        if metrics:
            self.scan.history.append({"epoch" if word == "epoch" else "step": count, **metrics})

    def stated(self, kind: str, key: str, value: Any, code: bool = False) -> None:
        """A hyper-parameter or a metric the text states (the first one stated wins); code states no results."""
        if kind == "hyper":
            self.scan.info.setdefault(key, value)
        elif not code:
            self.scan.metrics.setdefault("train" if key.startswith("train_") else "eval", {}).setdefault(key, value)

    def logged(self, message: str) -> None:
        """Old example scripts logged their results (`- INFO - __main__ -   eval_loss = 0.35`)."""
        if ("=" in message or ":" in message) and (item := pieces.loose_metric(message)):
            self.stated("metric", *item)
        else:
            self.model(message)

    def model(self, line: str) -> None:
        found = _BASE_MODEL_RE.search(line) if ("pretrained" in line or "model" in line) else None
        if found is None and "loading" in line:
            found = _LOADED_MODEL_RE.search(line)
        if found:
            name = next(g for g in found.groups() if g)
            loads = found.re is _BASE_MODEL_RE and (found.group(2) or found.group(4))
            if loads and found.group(4):  # `from_pretrained(checkpoint)`: the variable's value, if assigned
                name = self.assigned.get(name)
                if not isinstance(name, str) or not name:
                    return
            if loads and _NOT_THE_MODEL_RE.search(line, 0, found.end()):
                self.loaded = self.loaded or name
                return
            self.scan.info.setdefault("model", name.replace("--", "/") if "--" in name else name)


def scan(path: str, lines: list[str], first_lineno: int, warnings: list[ParseWarning]) -> Scan:
    return _Scanner(path, lines, first_lineno, warnings).run()


def _status(found: Scan, train_metrics: dict[str, Any]) -> str | None:
    if found.traceback:
        return "interrupted" if "KeyboardInterrupt" in found.traceback else "crashed"
    if train_metrics or any("train_runtime" in h for h in found.history):
        return "finished"
    return None


def _main_command(commands: list[tuple[int, str]]) -> str | None:
    """The run_clm.py launch when there is one (the last: earlier ones tend to be failed attempts)."""
    for _, command in reversed(commands):
        if "run_clm" in command:
            return command
    return commands[-1][1] if commands else None


def run_from_scan(found: Scan, version: str, path: str, kind: str, line: int) -> Run:
    metrics = dict(found.metrics)
    train = metrics.pop("train", {})
    evals = metrics.pop("eval", {})
    for other in metrics.values():
        evals.update({k: v for k, v in other.items() if k not in evals})
    command = _main_command(found.commands)
    args = cmdline.parse_args(command) if command else {}
    hyper = cmdline.canonical(args)  # what the command line says wins over what Trainer printed
    stated = cmdline.canonical(found.arguments) if found.arguments else {}
    for key, value in [*stated.items(), *found.info.items()]:
        hyper.setdefault(key, value)
    run = Run(
        version=version,
        source=path,
        source_kind=kind,
        line=line,
        status=_status(found, train),
        notes="\n".join(found.prose),
        commands=[c for _, c in found.commands],
        args=args,
        history=found.history,
        train_metrics=train,
        eval_metrics=evals,
        hyperparameters=hyper,
        lines=dict(found.lines),
    )
    if found.traceback and found.traceback != "Traceback":
        run.errors.append(found.traceback)
    if found.progress is not None:
        run.fields["progress"] = f"{found.progress[0]}/{found.progress[1]}"
    return run


def parse_trainer_stdout(path: str, lines: list[str], version: str) -> tuple[list[Run], list[ParseWarning]]:
    warnings: list[ParseWarning] = []
    found = scan(path, lines, 1, warnings)
    if not found.has_numbers():
        return [], warnings
    run = run_from_scan(found, version, path, TRAINER_STDOUT, 1)
    run.notes = ""  # a program's output: nothing in it is a person's note
    return [run], warnings


def parse_notebook(path: str, lines: list[str]) -> tuple[list[Run], list[ParseWarning]]:
    """One Run per `Version X` banner; the text before the first banner is the notebook's preamble."""
    warnings: list[ParseWarning] = []
    starts = []
    for i, line in enumerate(lines):
        head = line.lstrip(" \t")[:1]
        if head and head in "#=*~-" and (version := banner_version(line)):
            starts.append((i, version))
    runs = []
    for n, (start, version) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        found = scan(path, lines[start + 1 : end], start + 2, warnings)
        runs.append(run_from_scan(found, version, path, NOTEBOOK, start + 1))
    return runs, warnings


def _notebook(path: str, text: str) -> Result:
    return parse_notebook(path, lines_of(text))


def _stdout(path: str, text: str) -> Result:
    return parse_trainer_stdout(path, lines_of(text), stem(path))


NOTEBOOK_READER = Reader("notebook of versions", is_text_log, lambda path, head: bool(BANNER_RE.search(head)),
                         _notebook)
STDOUT_READER = Reader("Trainer stdout", is_text_log, lambda path, head: bool(TRAINER_MARK_RE.search(head)),
                       _stdout)
