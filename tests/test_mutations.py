import pytest

"""Property-based: mutated logs (truncated, garbage bytes, dropped or duplicated lines) never make the
reader raise, and the table still renders in every format."""

import random

import logfixtures as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cli.render import to_rich_text
from harness.cli.table import table_document
from harness.compare.formats import TEXT_FORMATS, render
from harness.compare.load import load_runs
from harness.compare.review import review
from harness.compare.table import build_table

SETTINGS = settings(max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SOURCES = {
    "run.log": F.runlog().encode(),
    "hf4.txt": F.HF4_STDOUT.encode(),
    "hf5.log": F.HF5_STDOUT.encode(),
    "notebook.txt": F.NOTEBOOK.encode(),
}

_mutation = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("garbage"), st.floats(0, 1), st.binary(min_size=1, max_size=40)),
    st.tuples(st.just("drop"), st.floats(0, 1)),
    st.tuples(st.just("duplicate"), st.floats(0, 1)),
    st.tuples(st.just("swap"), st.floats(0, 1), st.floats(0, 1)),
)


def mutate(data: bytes, mutations) -> bytes:
    for mutation in mutations:
        kind, where = mutation[0], mutation[1]
        lines = data.split(b"\n")
        i = int(where * (len(lines) - 1))
        if kind == "truncate":
            data = data[: int(where * len(data))]
        elif kind == "garbage":
            at = int(where * len(data))
            data = data[:at] + mutation[2] + data[at:]
        elif kind == "drop":
            data = b"\n".join(lines[:i] + lines[i + 1 :])
        elif kind == "duplicate":
            data = b"\n".join(lines[: i + 1] + lines[i:])
        else:
            j = int(mutation[2] * (len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
    return data


def render_all(tmp_path):
    runs, warnings = load_runs([str(tmp_path)], stale_after=0)
    if not runs:
        return warnings
    table = build_table(runs, parse_warnings=warnings, baseline=runs[0].version, sort="-eval_loss")
    table.warnings[:0] = review(table.runs)
    for fmt in TEXT_FORMATS:
        assert render(table, fmt)
    assert to_rich_text(table_document(table), width=80)
    return warnings


@SETTINGS
@given(st.sampled_from(sorted(SOURCES)), st.lists(_mutation, min_size=1, max_size=4))
def test_mutated_logs_never_crash(tmp_path_factory, name, mutations):
    check_mutant(tmp_path_factory, name, mutate(SOURCES[name], mutations))


def check_mutant(tmp_path_factory, name: str, data: bytes) -> None:
    """A mutated file read, tabulated and rendered every way: no exception, and each warning names the file."""
    folder = tmp_path_factory.mktemp("mutated")
    F.write(folder / name, data)
    for warning in render_all(folder):
        assert warning.path.endswith(name) and warning.line >= 0


@SETTINGS
@given(st.binary(max_size=300), st.sampled_from(["x.log", "x.txt", "all_results.json", "trainer_state.json"]))
def test_random_bytes_never_crash(tmp_path_factory, data, name):
    folder = tmp_path_factory.mktemp("random")
    F.write(folder / name, data)
    render_all(folder)


@pytest.mark.slow
@SETTINGS
@given(st.text(st.sampled_from(list("{}'\":,. -#*=\n\r0123456789aeilnosv_|%")), max_size=400))
def test_log_like_text_never_crashes(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("loglike")
    F.write(folder / "a.log", F.MAGIC + "\n" + text)
    F.write(folder / "b.txt", "######## Version 1.0 ########\n" + text)
    F.write(folder / "c.txt", "***** eval metrics *****\n" + text)
    render_all(folder)


@pytest.mark.slow
def test_many_mutants_of_every_source(tmp_path):
    """A fixed-seed sweep on top of hypothesis: 200 mutants at once in one directory."""
    rng = random.Random(1234)
    for n in range(200):
        name = rng.choice(sorted(SOURCES))
        data = SOURCES[name]
        mutations = [(rng.choice(["truncate", "drop", "duplicate"]), rng.random()) for _ in range(rng.randint(1, 3))]
        mutations.append(("garbage", rng.random(), bytes(rng.randrange(256) for _ in range(rng.randint(1, 9)))))
        F.write(tmp_path / f"{n:03d}-{name}", mutate(data, mutations))
    render_all(tmp_path)
