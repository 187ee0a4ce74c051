"""`harness report`: one self-contained HTML page, checked for structure without a browser.

(tests/test_report_browser.py opens the same pages in Chromium.)
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import logfixtures as F
import pytest

from harness.cli.main import main

EVIL = "<script>alert(1)</script>"
VOID = {"meta", "link", "br", "hr", "img", "input", "col", "wbr", "source", "area", "base", "embed", "track", "param"}


def write_inputs(root: Path) -> Path:
    """Run logs (a chain, an evil version name and note), a notebook, Trainer stdout, a Trainer directory
    whose trainer_state.json has no log history."""
    F.write(root / "logs" / "3.4.log", F.runlog(version="3.4", parent=None, lr="1.0e-04"))
    F.write(root / "logs" / "3.5.log", F.runlog(losses=(7.0, 6.5, 6.4, 6.3), eval_loss=5.2, note=f"try {EVIL} & more"))
    F.write(root / "logs" / "evil.log", F.runlog(version=EVIL, parent="3.5", lr="5.0e-06", eval_loss=5.1,
                                                  note=EVIL))
    F.write(root / "notebook.txt", F.NOTEBOOK)
    F.write(root / "hf4.txt", F.HF4_STDOUT)
    return root


@pytest.fixture
def inputs(tmp_path) -> Path:
    return write_inputs(tmp_path)


def report(capsys, *args) -> tuple[int, str, str]:
    code = main(["report", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


class Structure(HTMLParser):
    """Well-formedness (every element closed in order) and every reference the page makes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.scripts: list[dict] = []
        self.references: list[str] = []
        self.styles: list[str] = []
        self._text: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for key in ("src", "href", "action", "srcset", "poster", "data"):
            if key in attributes:
                self.references.append(attributes[key] or "")
        if tag in VOID:
            return
        self.stack.append(tag)
        if tag in ("script", "style"):
            self._text = []
            if tag == "script":
                self.scripts.append({"attrs": attributes, "text": ""})

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'} at line {self.getpos()[0]}")
            return
        self.stack.pop()
        if tag in ("script", "style") and self._text is not None:
            text = "".join(self._text)
            if tag == "script":
                self.scripts[-1]["text"] = text
            else:
                self.styles.append(text)
            self._text = None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)


def parse(page: str) -> Structure:
    checker = Structure()
    checker.feed(page)
    checker.close()
    return checker


def assert_self_contained(page: str) -> Structure:
    assert page.startswith("<!DOCTYPE html>")
    checker = parse(page)
    assert checker.errors == [] and checker.stack == []
    assert all(ref.startswith("#") for ref in checker.references), checker.references  # in-page links only
    assert not re.search(r"url\(|@import", "".join(checker.styles))
    assert [s["attrs"].get("type") for s in checker.scripts] == ["application/json", None]
    assert not any("src" in s["attrs"] for s in checker.scripts)
    code = checker.scripts[1]["text"]
    assert not re.search(r"\b(fetch|XMLHttpRequest|WebSocket|importScripts|eval)\s*\(|https?://(?!www\.w3\.org/2000/svg)", code)
    return checker


def payload(page: str) -> dict:
    return json.loads(parse(page).scripts[0]["text"])


def test_page_is_well_formed_self_contained_and_escapes_log_text(inputs, capsys):
    out = inputs / "out" / "report.html"
    code, stdout, err = report(capsys, str(inputs / "logs"), str(inputs / "notebook.txt"), str(inputs / "hf4.txt"),
                               "--baseline", "3.4", "--out", str(out), "--title", "Sweep & <co>")
    assert code == 0, err
    assert re.fullmatch(rf"wrote {re.escape(str(out))} \(\d+ versions, \d+ KB\)\n", stdout)
    page = out.read_text(encoding="utf-8")
    checker = assert_self_contained(page)
    assert "<title>Sweep &amp; &lt;co&gt;</title>" in page
    data_text = checker.scripts[0]["text"]
    assert "<" not in data_text and ">" not in data_text and "&" not in data_text  # cannot close its element
    assert page.count("<script") == 2 and EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the table's cell, as text
    doc = json.loads(data_text)
    assert EVIL in [v["version"] for v in doc["versions"]]  # the page gets the name back, as data


def test_payload_matches_the_commands(inputs, capsys):
    out = inputs / "r.html"
    assert report(capsys, str(inputs / "logs"), str(inputs / "notebook.txt"), "--out", str(out))[0] == 0
    doc = payload(out.read_text(encoding="utf-8"))
    versions = [v["version"] for v in doc["versions"]]
    assert len(doc["table"]["raw"]) == len(versions) == len(doc["details"]) == len(doc["diff"]["sides"])
    remarks = dict(zip(versions, doc["table"]["remarks"]))
    assert any("evaluation file is the training file" in r for r in remarks["2.3"]) and remarks["3.4"] == []
    tree = [(row[0], row[2]) for row in doc["tree"]]
    assert ("", "3.4") in tree and ("└── ", "3.5") in tree and ("    └── ", EVIL) in tree
    titles = [section[0] for section in doc["details"][versions.index("3.5")]]
    assert titles[:2] == ["run", "notes"] and "samples" in titles
    assert doc["curves"]["axes"]["loss"]["step"] == ["epoch", "epoch (steps not logged)"]  # the notebook has no steps
    assert doc["curves"]["offsets"]["step"][versions.index("3.5")] == 118.0  # 3.4's last step
    assert "learning_rate" in doc["sweep"]["x"] and "eval_loss" in doc["sweep"]["y"]
    assert doc["sweep"]["log"]["learning_rate"] is True
    assert "train.learning_rate" not in doc["sweep"]["x"] and "version" not in doc["sweep"]["x"]  # same numbers, a name
    assert doc["samples"][0]["prompt"] == "Hey, how are you?"
    common = doc["diff"]["common"]
    assert common["data.block_size"] == 128 and "train.learning_rate" not in common  # shared once, not per version


def test_a_hundred_long_versions_stay_under_two_megabytes(tmp_path, capsys):
    losses = tuple(8.0 - i * 0.01 for i in range(500))  # 500 logged points per version
    for i in range(100):
        F.write(tmp_path / "logs" / f"5.{i}.log", F.runlog(version=f"5.{i}", parent=f"5.{i - 1}" if i else None,
                                                            lr=f"{(i + 1) * 1e-5:.1e}", losses=losses))
    out = tmp_path / "r.html"
    assert report(capsys, str(tmp_path / "logs"), "--out", str(out))[0] == 0
    size = out.stat().st_size
    assert size < 2_000_000, size
    doc = payload(out.read_text(encoding="utf-8"))
    assert doc["curves"]["downsampled"] and max(len(p) for s in doc["curves"]["series"] for p in s.values()) <= 500


def test_thinning_keeps_spikes():
    from harness.cli.page.data import _points

    entries = [{"step": i, "loss": 1.0} for i in range(1000)]
    entries[537]["loss"] = 9.0
    thinned = _points(entries, "loss", 100)
    assert len(thinned) <= 100 and [537, None, 9.0] in thinned
    assert [p[0] for p in thinned] == sorted(p[0] for p in thinned)


def test_bad_input_is_one_line(inputs, tmp_path, capsys, monkeypatch):
    code, _, err = report(capsys, str(inputs / "missing.txt"), "--out", str(tmp_path / "x.html"))
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: no such file")
    code, _, err = report(capsys, str(inputs / "logs"), "--baseline", "9.9", "--out", str(tmp_path / "x.html"))
    assert code == 2 and err.count("\n") == 1 and "--baseline" in err
    (tmp_path / "empty").mkdir()
    code, _, err = report(capsys, str(tmp_path / "empty"), "--out", str(tmp_path / "x.html"))
    assert code == 1 and "no runs found" in err
    assert not (tmp_path / "x.html").exists()
    monkeypatch.chdir(inputs)
    code, stdout, _ = report(capsys)  # logs/ -> report.html
    assert code == 0 and stdout.startswith("wrote report.html (3 versions") and (inputs / "report.html").is_file()
