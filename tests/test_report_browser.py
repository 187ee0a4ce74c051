"""`harness report` in a real headless browser: Chromium from the system package manager, driven by Playwright.

Skips, saying why, when Playwright or a Chromium binary is missing (see .ci/run for the install steps; never
`playwright install`, which downloads a browser). Set REPORT_SCREENSHOT=docs/report.png to keep the real-run
screenshot that test_real_runs_page writes into its tmp dir (that is how README's picture is made).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time

import logfixtures as F
import pytest

from harness.cli.present import plain
from harness.compare.cache import load_runs
from harness.compare.table import build_table
from tests.test_report import EVIL, assert_self_contained, payload, write_inputs

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install -r requirements-dev.txt)")

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium")


def chromium_path() -> str | None:
    explicit = os.environ.get("HARNESS_CHROMIUM")
    if explicit:
        return explicit if os.path.exists(explicit) else None
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser():
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium binary (apt-get install -y chromium, or set HARNESS_CHROMIUM=PATH)")
    with sync_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        except sync_api.Error as exc:
            pytest.skip(f"Chromium at {path} does not start: {str(exc).splitlines()[0]}")
        yield launched
        launched.close()


class Page:
    """A page opened from disk, recording script errors, dialogs and any request that leaves the file."""

    def __init__(self, browser, path):
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": 1300, "height": 900})
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("request", lambda r: self.requests.append(r.url) if not r.url.startswith("file://") else None)
        self.page.goto(path.as_uri())
        self.page.wait_for_function("window.harnessReport !== undefined")

    def run_indexes(self, selector: str) -> list[int]:
        return self.page.eval_on_selector_all(selector, "nodes => nodes.map(n => Number(n.dataset.run))")

    def clean(self) -> bool:
        return not self.errors and not self.dialogs and not self.requests


def build(tmp_path, *args) -> tuple:
    from harness.cli.main import main

    out = tmp_path / "report.html"
    assert main(["report", *args, "--out", str(out)]) == 0
    return out, payload(out.read_text(encoding="utf-8"))


@pytest.fixture
def mixed(tmp_path):
    root = write_inputs(tmp_path / "in")
    paths = [str(root / "logs"), str(root / "notebook.txt"), str(root / "hf4.txt")]
    out, doc = build(tmp_path, *paths)
    return out, doc, paths


def versions_in(doc, indexes):
    return [doc["versions"][i]["version"] for i in indexes]


def test_sort_filter_and_remarks(browser, mixed):
    out, doc, paths = mixed
    page = Page(browser, out)
    runs, _ = load_runs(paths, 30.0)
    rows = "#table-body tbody tr[data-run]"
    header = page.page.locator("#table-body th", has_text=re.compile(r"^eval_loss$"))
    header.click()  # as `harness table --sort eval_loss`: unknown values last
    assert versions_in(doc, page.run_indexes(rows)) == [r.version for r in build_table(runs, sort="eval_loss").runs]
    header.click()
    assert header.get_attribute("aria-sort") == "descending"
    assert versions_in(doc, page.run_indexes(rows)) == [r.version for r in build_table(runs, sort="-eval_loss").runs]
    page.page.locator("#table-body th", has_text=re.compile(r"^version$")).click()
    shown = versions_in(doc, page.run_indexes(rows))
    assert shown.index("2.2") < shown.index("2.10") < shown.index("3.4")  # natural order, not text order

    page.page.fill("#table-body input[type=search]", "FINETUNED_model_v2.2")  # the model of 2.3 and 2.4
    visible = page.page.eval_on_selector_all(rows, "rs => rs.filter(r => !r.hidden).map(r => r.dataset.run)")
    assert sorted(versions_in(doc, map(int, visible))) == ["2.3", "2.4"]
    assert page.page.inner_text("#table-body .controls .note") == f"2 of {len(doc['versions'])} rows"
    page.page.fill("#table-body input[type=search]", "")
    remark = page.page.locator("#table-body tr.flagged + tr.remarks").first
    assert "evaluation file is the training file" in remark.inner_text()
    assert page.clean(), (page.errors, page.dialogs, page.requests)


def test_lineage_detail_and_diff_as_the_commands(browser, mixed):
    from harness.cli.diff import compare

    out, doc, paths = mixed
    page = Page(browser, out)
    versions = [v["version"] for v in doc["versions"]]
    page.page.locator("#tree button", has_text=re.compile(r"^3\.5$")).click()
    detail = page.page.inner_text("#detail")
    assert detail.startswith("version 3.5") and f"try {EVIL} & more" in detail and "config (" in detail
    page.page.get_by_role("button", name="diff with parent 3.4").click()
    view = page.page.inner_text("#diff-view")
    assert view.startswith("diff 3.4 → 3.5") and "train.learning_rate" in view and "better" in view
    page.page.select_option("#diff-body select >> nth=0", str(versions.index("2.2")))
    page.page.select_option("#diff-body select >> nth=1", str(versions.index("2.3")))
    assert "hyper-parameters" in page.page.inner_text("#diff-view")

    runs = build_table(load_runs(paths, 30.0)[0]).runs
    assert [r.version for r in runs] == versions
    pairs = [(i, j) for i in range(len(runs)) for j in range(len(runs)) if i != j]
    in_page = page.page.evaluate("pairs => pairs.map(([i, j]) => window.harnessReport.compare(i, j))", pairs)
    for (i, j), got in zip(pairs, in_page):  # the page's diff is `harness diff --format json`'s document
        assert got == json.loads(json.dumps(plain(compare(runs[i], runs[j])))), (versions[i], versions[j])
    assert page.clean()


def test_curves_toggle_hover_and_cumulative(browser, mixed):
    out, doc, _ = mixed
    page = Page(browser, out)
    with_loss = [i for i, s in enumerate(doc["curves"]["series"]) if "loss" in s]
    assert page.run_indexes("#curves-body g.series") == with_loss
    first = page.page.locator(f"#curves-body .legend button[data-run='{with_loss[0]}']")
    first.click()
    assert "off" in first.get_attribute("class")
    assert page.run_indexes("#curves-body g.series") == with_loss[1:]
    first.click()
    assert page.run_indexes("#curves-body g.series") == with_loss

    page.page.locator("#curves-body circle.mark").first.hover()
    tip = page.page.locator("#curves-body .tooltip")
    assert tip.is_visible() and re.search(r"eval_loss = \d", tip.inner_text())
    page.page.select_option("#curves-body select >> nth=0", "eval_loss")
    page.page.check("#curves-body input[type=checkbox] >> nth=0")  # cumulative along parents
    assert "cumulative along parents" in page.page.text_content("#curves-body svg")
    assert "No eval_loss points for" in page.page.inner_text("#curves-body")
    assert page.clean()


def test_sweep_plot_and_samples(browser, mixed):
    out, doc, _ = mixed
    page = Page(browser, out)
    page.page.select_option("#sweep-body select >> nth=0", "learning_rate")
    page.page.select_option("#sweep-body select >> nth=1", "eval_loss")
    both = [v for v in doc["sweep"]["values"] if "learning_rate" in v and "eval_loss" in v]
    assert page.page.locator("#sweep-body svg circle.dot").count() == len(both)
    assert page.page.is_checked("#sweep-body input[type=checkbox]")  # learning rates: log x
    assert "learning_rate (log scale)" in page.page.text_content("#sweep-body svg")
    outputs = page.run_indexes("#samples-body .sample")
    assert [doc["versions"][i]["version"] for i in outputs] == [o[0] and doc["versions"][o[0]]["version"]
                                                                for o in doc["samples"][0]["outputs"]]
    assert "prompt: Hey, how are you?" in page.page.inner_text("#samples-body")
    assert page.clean()


def test_log_text_renders_as_text(browser, mixed, tmp_path):
    out, _, _ = mixed
    page = Page(browser, out)
    page.page.locator("#tree button", has_text=EVIL).click()
    assert page.page.inner_text("#detail").startswith(f"version {EVIL}")
    assert page.page.evaluate("document.querySelectorAll('script').length") == 2
    assert EVIL in page.page.inner_text("#table-body")
    page.page.screenshot(path=str(tmp_path / "mixed.png"), full_page=True)
    assert (tmp_path / "mixed.png").stat().st_size > 10_000
    assert page.clean() and not page.dialogs


def test_inputs_without_curves_say_so(browser, tmp_path):
    F.trainer_dir(tmp_path / "out", with_state=False)
    out, doc = build(tmp_path, str(tmp_path / "out"))
    assert doc["curves"]["metrics"] == []
    page = Page(browser, out)
    assert "logged periodic lines" in page.page.inner_text("#curves-body")
    assert "One version only" in page.page.inner_text("#diff-body")
    assert page.page.locator("#curves-body svg").count() == 0 and page.clean()


@pytest.mark.slow
def test_real_runs_page(browser, real_runs, tmp_path):
    out, doc = build(tmp_path, str(real_runs / "logs"))
    assert_self_contained(out.read_text(encoding="utf-8"))
    assert [v["version"] for v in doc["versions"]] == ["3.3", "3.4", "3.5"]
    page = Page(browser, out)
    assert page.run_indexes("#curves-body g.series") == [0, 1, 2]
    assert "def main():" in page.page.inner_text("#samples-body")
    page.page.locator("#tree button", has_text=re.compile(r"^3\.5$")).click()
    page.page.get_by_role("button", name="diff with parent 3.4").click()
    page.page.locator("#table-body th", has_text=re.compile(r"^eval_loss$")).click()
    page.page.evaluate("window.scrollTo(0, 0)")
    shot = tmp_path / "report.png"
    page.page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000 and page.clean()
    if os.environ.get("REPORT_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["REPORT_SCREENSHOT"])


@pytest.mark.slow
def test_a_thousand_versions_load_time(browser, tmp_path, capsys):
    """Prints the figures README quotes; asserts only a generous bound."""
    losses = tuple(8.0 - i * 0.02 for i in range(100))
    for i in range(1000):
        parent = f"6.{i - 1}" if i % 10 else None  # chains of ten fine-tunes
        F.write(tmp_path / "logs" / f"6.{i}.log", F.runlog(version=f"6.{i}", parent=parent, losses=losses,
                                                            lr=f"{(i % 10 + 1) * 1e-5:.1e}", eval_loss=5 + (i % 37) / 10))
    started = time.perf_counter()
    out, doc = build(tmp_path, str(tmp_path / "logs"), "--no-cache")
    built = time.perf_counter() - started
    started = time.perf_counter()
    page = Page(browser, out)
    opened = time.perf_counter() - started
    ready_ms = page.page.evaluate("window.harnessReport.ready")
    sort_ms = page.page.evaluate("""() => { const t = performance.now();
        [...document.querySelectorAll('#table-body th')].find(h => h.textContent === 'eval_loss').click();
        return performance.now() - t; }""")
    assert page.run_indexes("#table-body tbody tr[data-run]")[:1] == [min(range(1000), key=lambda i: (5 + (i % 37) / 10, i))]
    size_mb = out.stat().st_size / 2**20
    with capsys.disabled():
        print(f"\n1,000 versions: page {size_mb:.1f} MB built in {built:.1f} s; browser load to ready {opened:.2f} s "
              f"(scripts done at {ready_ms:.0f} ms after navigation start); sort by eval_loss {sort_ms:.0f} ms")
    assert len(doc["versions"]) == 1000 and page.clean()
    assert ready_ms < 20_000


def test_prints_without_controls(browser, mixed, tmp_path):
    out, _, _ = mixed
    page = Page(browser, out)
    page.page.emulate_media(media="print")
    assert not page.page.is_visible("#table-body input[type=search]") and not page.page.is_visible("nav")
    assert page.page.is_visible("#curves-body svg") and page.page.is_visible("#tree")
    pdf = page.page.pdf(path=str(tmp_path / "report.pdf"))
    assert pdf.startswith(b"%PDF") and page.clean()
