from harness.train import checkpoints


def _checkpoint(root, step, complete=True):
    directory = root / f"checkpoint-{step}"
    directory.mkdir(parents=True)
    (directory / "model.safetensors").write_bytes(b"x" * 100)
    (directory / "optimizer.pt").write_bytes(b"y" * 50)
    if complete:
        checkpoints.mark_complete(directory, step=step)
    return directory


def test_newest_complete_skips_unmarked_and_truncated(tmp_path):
    _checkpoint(tmp_path, 4)
    eight = _checkpoint(tmp_path, 8)
    _checkpoint(tmp_path, 12, complete=False)  # killed before the marker
    assert checkpoints.newest_complete(tmp_path) == eight
    (eight / "optimizer.pt").write_bytes(b"y" * 10)  # truncated after marking
    assert checkpoints.newest_complete(tmp_path).name == "checkpoint-4"


def test_steps_sort_numerically(tmp_path):
    for step in (9, 10, 100):
        _checkpoint(tmp_path, step)
    assert [p.name for p in checkpoints.checkpoints(tmp_path)] == ["checkpoint-100", "checkpoint-10", "checkpoint-9"]


def test_marker_extra_data_and_weights(tmp_path):
    directory = _checkpoint(tmp_path, 3)
    assert checkpoints.read_marker(directory)["step"] == 3
    assert checkpoints.has_weights(directory)
    assert not checkpoints.has_weights(tmp_path)
    assert checkpoints.newest_complete(tmp_path / "missing") is None
