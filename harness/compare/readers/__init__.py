"""Every input shape the table reads, behind one interface, in one ordered list.

A new shape is one new module in this package plus one line in REGISTRY. harness/compare/load.py walks
directories with `picks`, and hands each text file to the first readers whose `recognise` accepts it, in
REGISTRY order, until one finds runs. Recognisers must be cheap (a prefix test, a substring, one regex):
they run on every file, so the cheapest and most common (the run-log magic line) come first.

`read(path, text)` returns (runs, warnings) and never raises on bad input. Readers with `per_directory`
(Trainer's JSON files) are different: every picked file of one directory is read together, as
`read(directory, {file name: bytes})`, since together they describe one run. Readers marked `binary`
(TensorBoard event files) get the path alone and open the file through their own library.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from harness.compare.records import ParseWarning, Run

Result = tuple[list[Run], list[ParseWarning]]
TEXT_SUFFIXES = (".log", ".txt", ".out")


@dataclass(frozen=True)
class Reader:
    name: str  # what the warnings and docs call it
    picks: Callable[[str], bool]  # file name -> read it when a directory walk meets it
    recognise: Callable[[str, str], bool]  # (path, head_text) -> this text is (probably) mine
    read: Callable  # (path, text) -> Result; per_directory: (directory, {name: bytes}) -> Result
    per_directory: bool = False
    binary: bool = False  # read from the path itself (`read(path, None)`): the text is not decoded first


def is_text_log(name: str) -> bool:
    return name.endswith(TEXT_SUFFIXES)


def stem(path: str) -> str:
    """The version a single-run file gets: its name without a text suffix; a model card (`README.md`, which
    push_to_hub writes into the output directory) is named after its directory."""
    name = os.path.basename(path)
    if name.lower() == "readme.md":
        return os.path.basename(os.path.dirname(os.path.abspath(path))) or name
    for suffix in TEXT_SUFFIXES + (".md", ".markdown"):
        if name.endswith(suffix):
            return name[: -len(suffix)] or name
    return name


def lines_of(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _registry() -> list[Reader]:
    # Imported here: the reader modules import records/cmdline, and load.py imports this package.
    from harness.compare.readers import jupyter, other_trainers, report, runlog, runs_table, tensorboard, text, trainer_json

    return [
        runlog.READER,  # the magic first line: the cheapest test and the commonest file
        jupyter.READER,  # before the text readers: its JSON holds Trainer's dicts too
        other_trainers.LLAMAFACTORY_READER,
        other_trainers.LIGHTNING_READER,
        text.NOTEBOOK_READER,
        runs_table.READER,  # one table, one row per run: before headings split the text into runs
        report.READER,
        text.STDOUT_READER,
        report.SINGLE_READER,  # anything else with metrics in it; last, it recognises every text
        trainer_json.READER,
        tensorboard.READER,
    ]


REGISTRY: list[Reader] = _registry()
TEXT_READERS = [r for r in REGISTRY if not r.per_directory and not r.binary]
BINARY_READERS = [r for r in REGISTRY if r.binary]
DIRECTORY_READERS = [r for r in REGISTRY if r.per_directory]


def picked(name: str) -> Reader | None:
    """The reader a directory walk hands this file name to (text readers share one dispatch), or None."""
    for reader in REGISTRY:
        if reader.picks(name):
            return reader
    return None


def binary_reader(path: str) -> Reader | None:
    name = os.path.basename(path)
    return next((r for r in BINARY_READERS if r.picks(name)), None)


def read_text(path: str, text: str) -> Result:
    """The first recognising reader that finds runs wins; warnings of every reader tried are kept."""
    warnings: list[ParseWarning] = []
    for reader in TEXT_READERS:
        if reader.recognise(path, text):
            runs, problems = reader.read(path, text)
            warnings.extend(problems)
            if runs:
                return runs, warnings
    return [], warnings
