"""The reviewer's remark when run_clm.py logs (per-predicted-token loss) meet losses from Trainer output."""

from harness.compare.records import NOTEBOOK, RUNLOG, Run
from harness.compare.review import review


def _run(version, kind, denominator=None, eval_loss=3.0):
    run = Run(version=version, source=f"{version}.txt", source_kind=kind, eval_metrics={"eval_loss": eval_loss})
    if denominator:
        run.environment["loss_denominator"] = denominator
    return run


def test_mixed_sources_get_one_remark():
    runs = [_run("3.4", RUNLOG, "predicted_tokens"), _run("2.1", NOTEBOOK), _run("2.2", NOTEBOOK)]
    (remark,) = review(runs)
    assert remark.startswith("2.1, 2.2: losses read from Trainer output; if HF's run_clm.py under transformers 5.x")
    assert remark.endswith("(block-1)/block of the per-predicted-token loss of the run_clm.py logs (3.4)")


def test_no_remark_without_a_mix():
    assert review([_run("2.1", NOTEBOOK), _run("2.2", NOTEBOOK)]) == []
    assert review([_run("3.4", RUNLOG, "predicted_tokens"), _run("3.5", RUNLOG, "predicted_tokens")]) == []
    assert review([_run("3.3", RUNLOG), _run("2.1", NOTEBOOK)]) == []  # a log from before the field: unknown


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PARTS = st.lists(st.sampled_from(["a", "b", ".", "..", "", "c.txt", "a/b", "/", "//"]), max_size=5)


@settings(max_examples=500, deadline=None, database=None)
@given(_PARTS, _PARTS)
def test_same_path_is_normpath_equality(x, y):
    """remarks._same_path skips normpath when the last parts differ: only a shortcut, never another answer."""
    import os

    from harness.compare.remarks import _same_path

    a, b = "/".join(x), "/".join(y)
    assert _same_path(a, b) == (os.path.normpath(a) == os.path.normpath(b))
