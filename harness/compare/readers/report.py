"""Hand-kept reports: several runs in one text, each under its own heading; and any single-run text
with numbers in it (a model card, a pasted notebook table, a results list).

Runs are separated by Markdown headings (`## MBart (5e-5)`, `### 2. v=0.5`) or `Run 3` / `Experiment 2` /
`Version 1.1` lines. Headings that only name a part of a run (`### Training results`, `## Hyperparameters`)
do not separate runs. The level used is the shallowest one that gives at least two sections with
numbers; each run is read from its own section only, so nothing leaks from one run into another. What
comes before the first run's section gives no run, but the settings it states with no results of its own (a
`## Training` list: `- Learning rate: 2e-5`, a command line) are every run's, where the run does not state its
own.
"""

from __future__ import annotations

import re

from harness.compare.readers import Reader, Result, lines_of, stem
from harness.compare.readers.text import run_from_scan, scan
from harness.compare.records import JUPYTER, REPORT, ParseWarning

_MD_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_RUN_LINE_RE = re.compile(
    r"^[ \t*_]*(?:run|experiment|exp|trial|version|versión|essai|expérience|experimento|lauf)\.?[ \t]*[#:.]?[ \t]*"
    r"([A-Za-z0-9][\w.+-]*)[ \t*_]*(?:[:\-–—(][^\n]{0,100})?$",
    re.IGNORECASE,
)
_BOLD_RE = re.compile(r"^\*\*([^*\n]{1,100})\*\*[ \t]*:?[ \t]*$")
_UNDERLINE_RE = re.compile(r"^[ \t]*(?:={3,}|-{3,})[ \t]*$")
_RUN_WORDS = ("run", "experiment", "exp", "trial", "version", "versión", "essai", "expérience", "experimento", "lauf")
# The words of _RUN_LINE_RE, case by case rather than IGNORECASE: several times faster on long texts.
_RUN_WORD_RE = re.compile(r"(?m)^[ \t*_]*(?:" + "|".join(f"{w}|{w.capitalize()}|{w.upper()}" for w in _RUN_WORDS)
                          + r")\b")
_NUMBERED_RE = re.compile(r"(?m)^\d+[.)][ \t]+\S")
_NUMBER_HEADING_RE = re.compile(r"^(\d+)[.)][ \t]+(\S[^\n]{0,80})$")
_ENDS_WITH_VALUE_RE = re.compile(r"[:=][ \t]*[-+]?[\d.]+%?[ \t]*$")
# Words of headings that name a part of a run, not a run.
_PART_WORDS = set("""
training train trained results result evaluation eval test testing validation hyperparameters hyper-parameters
hyperparameter parameters params metrics metric model description intended uses limitations and data procedure
framework versions summary overview notes setup configuration config details the of on set final best loss
losses curves curve plots plot usage how to get started citation references conclusion conclusions introduction
discussion environment dataset datasets logs log output outputs performance score scores table analysis more
information needed acknowledgements bias risks recommendations a an in for with
""".split())
_RUN_LEVEL, _NUMBERED_LEVEL = 7, 8
_MODEL_CARD_MARK = "generated_from_trainer"


def _clean(title: str) -> str:
    title = re.sub(r"[*_`]+", "", title).strip()
    title = re.sub(r"^(\d+)[.)]\s*", r"\1 ", title).strip()
    return title.rstrip(":.").strip() or title


def _is_part(title: str) -> bool:
    words = re.findall(r"[^\W\d_][\w-]*", title.lower())
    return bool(words) and all(w in _PART_WORDS for w in words) and not re.search(r"\d", title)


def _setext(lines: list[str], i: int) -> int | None:
    """Level 1 or 2 when line i is underlined with `===` / `---` (and is a title, not a `key: value`)."""
    if i + 1 >= len(lines) or not _UNDERLINE_RE.match(lines[i + 1]):
        return None
    line = lines[i]
    if line[0] in " \t-*#|" or ":" in line or not line.strip():
        return None
    return 1 if lines[i + 1].lstrip()[0] == "=" else 2


def headings(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line index, level, run name) of every line that may open a run."""
    out = []
    for i, line in enumerate(lines):
        if not line or len(line) > 120:
            continue
        head = line[0]
        if (level := _setext(lines, i)) is not None:
            title = _clean(line)
            if title and not _is_part(title):
                out.append((i, level, title))
            continue
        if head == "*" and (m := _BOLD_RE.match(line)):
            title = _clean(m.group(1))
            if title and not _is_part(title) and not _ENDS_WITH_VALUE_RE.search(title):
                out.append((i, _RUN_LEVEL, title))
            continue
        if head == "#" and (m := _MD_HEADING_RE.match(line)):
            title = _clean(m.group(2))
            if title and not _is_part(title):
                out.append((i, len(m.group(1)), title))
        elif head.isdigit() and (m := _NUMBER_HEADING_RE.match(line)) and not _ENDS_WITH_VALUE_RE.search(line):
            if not _is_part(m.group(2)):
                out.append((i, _NUMBERED_LEVEL, _clean(line)))
        elif head in "RrEeTtVvLl*_" and (m := _RUN_LINE_RE.match(line)):
            out.append((i, _RUN_LEVEL, m.group(1).rstrip(".:")))
    return out


def recognise(path: str, head: str) -> bool:
    """Could this text have run headings? Substring tests first: this runs on every Trainer stdout too."""
    if "#" in head or "**" in head or "===" in head or "---" in head:
        return True
    if _RUN_WORD_RE.search(head):
        return True
    return bool(_NUMBERED_RE.search(head))


def _sections(lines: list[str], marks: list[tuple[int, int, str]]):
    for n, (start, _, name) in enumerate(marks):
        end = marks[n + 1][0] if n + 1 < len(marks) else len(lines)
        yield start, end, name


def read(path: str, text: str) -> Result:
    return split_runs(path, lines_of(text), REPORT)


def split_runs(path: str, lines: list[str], kind: str) -> Result:
    """One Run per run heading, at the shallowest level that separates two or more runs with numbers."""
    found = headings(lines)
    for level in sorted({lv for _, lv, _ in found}):
        marks = [h for h in found if h[1] <= level]
        warnings: list[ParseWarning] = []
        runs = []
        shared: dict = {}  # settings stated before the first run, in sections with no results
        first = marks[0][0] if marks else len(lines)
        if first:
            _shared(scan(path, lines[:first], 1, []), path, kind, shared)
        run_start = 0
        for start, end, name in _sections(lines, marks):
            section = scan(path, lines[start + 1 : end], start + 2, warnings)
            if (section.history or section.metrics) and runs and kind == JUPYTER and _evaluation_only(name, section):
                # `## Evaluate` over `trainer.evaluate()`: the run above, evaluated, not a run of its own
                section = scan(path, lines[run_start + 1 : end], run_start + 2, [])
                runs[-1] = run_from_scan(section, runs[-1].version, path, kind, run_start + 1)
            elif section.history or section.metrics:
                runs.append(run_from_scan(section, name, path, kind, start + 1))
                run_start = start
            elif not runs:
                _shared(section, path, kind, shared)
        if len(runs) >= 2:
            for run in runs:
                for key, value in shared.items():
                    run.hyperparameters.setdefault(key, value)
            return runs, warnings
    return [], []


_STEP_WORDS = _PART_WORDS | set("evaluate evaluating inference predict prediction predictions validate it our "
                                 "fine-tuned finetuned".split())


def _evaluation_only(title: str, section) -> bool:
    """A notebook step (`## Evaluate`) that only evaluated: no training logged, no arguments, command or
    model of its own, and a title that names a step, not a run (`## Run B (lr 1e-5)` is a run)."""
    words = re.findall(r"[^\W\d_][\w-]*", title.lower())
    if not words or re.search(r"\d", title) or not all(w in _STEP_WORDS for w in words):
        return False
    if section.arguments or section.commands or section.info.get("model") or "train" in section.metrics:
        return False
    return not any("loss" in h or "train_loss" in h or "train_runtime" in h for h in section.history)


def _shared(section, path: str, kind: str, into: dict) -> None:
    """The hyper-parameters a section without results states (a setup list, a launch command)."""
    if section.history or section.metrics or not (section.info or section.arguments or section.commands):
        return
    for key, value in run_from_scan(section, "", path, kind, 1).hyperparameters.items():
        into.setdefault(key, value)


def read_single(path: str, text: str) -> Result:
    runs, warnings = one_run(path, lines_of(text), stem(path), REPORT)
    if _MODEL_CARD_MARK in text[:4096]:
        for run in runs:
            run.notes = ""  # Trainer wrote it (create_model_card): boilerplate, not a person's notes
    return runs, warnings


def one_run(path: str, lines: list[str], version: str, kind: str) -> Result:
    """Any text with metrics in it, as one run."""
    warnings: list[ParseWarning] = []
    found = scan(path, lines, 1, warnings)
    if not (found.history or found.metrics or found.stopped_early()):
        return [], warnings
    return [run_from_scan(found, version, path, kind, 1)], warnings


def _picks(name: str) -> bool:
    return name.endswith((".md", ".markdown"))


READER = Reader("report of several runs", _picks, recognise, read)
SINGLE_READER = Reader("text with metrics", _picks, lambda path, head: True, read_single)
