"""data.dataset_name through datasets: a local dataset directory and a script-free repo layout, offline."""

import json
import os
from dataclasses import replace

import pytest

from harness.errors import UserError
from harness.train.config import DataConfig
from harness.train.data import dataset_files, load_raw

DATA_CFG = DataConfig(text_column="text", keep_linebreaks=True, validation_split_percentage=5,
                      dataset_config_name=None)


def _jsonl(path, texts):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))


def test_offline_everywhere():
    assert os.environ["HF_DATASETS_OFFLINE"] == "1" and os.environ["HF_HUB_OFFLINE"] == "1"


def test_local_dataset_directory_with_both_splits(tmp_path):
    repo = tmp_path / "tiny-ds"
    _jsonl(repo / "train.jsonl", [f"train line {i}" for i in range(40)])
    _jsonl(repo / "validation.jsonl", [f"valid line {i}" for i in range(5)])
    files = dataset_files(replace(DATA_CFG, dataset_name=str(repo)), tmp_path / "cache")
    assert [f.role for f in files] == ["train", "validation"]
    raw = load_raw(DATA_CFG, files)
    assert list(raw["train"]["text"])[:2] == ["train line 0", "train line 1"] and len(raw["train"]) == 40
    assert len(raw["validation"]) == 5
    again = dataset_files(replace(DATA_CFG, dataset_name=str(repo)), tmp_path / "cache")
    assert [f.sha256 for f in again] == [f.sha256 for f in files]  # same data, same fingerprint


def test_script_free_repo_layout_with_configs(tmp_path):
    """A hub-style repo: README.md front matter names the configs and their data files; no loading script."""
    repo = tmp_path / "org__corpus"
    _jsonl(repo / "small" / "train.jsonl", [f"small {i}" for i in range(30)])
    _jsonl(repo / "big" / "train.jsonl", [f"big {i}" for i in range(60)])
    (repo / "README.md").write_text(
        "---\nconfigs:\n- config_name: small\n  data_files:\n  - split: train\n    path: small/train.jsonl\n"
        "- config_name: big\n  data_files:\n  - split: train\n    path: big/train.jsonl\n---\n# corpus\n")
    cfg = replace(DATA_CFG, dataset_name=str(repo), dataset_config_name="big")
    files = dataset_files(cfg, tmp_path / "cache")
    assert [f.role for f in files] == ["train"]
    raw = load_raw(cfg, files)  # no validation split: train[:5%] held out, as HF's run_clm.py does
    assert len(raw["validation"]) == 3 and len(raw["train"]) == 57
    assert raw["validation"][0]["text"] == "big 0"


def test_unknown_dataset_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match=r"^data.dataset_name=nobody/no-such-dataset: cannot load it through datasets"):
        dataset_files(replace(DATA_CFG, dataset_name="nobody/no-such-dataset"), tmp_path / "cache")


def test_dataset_and_train_file_together_are_refused(compose):
    from harness.train.config import validate

    with pytest.raises(UserError, match="data.dataset_name and data.train_file/validation_file are both set"):
        validate(compose("data.dataset_name=wikitext"))


@pytest.mark.slow
def test_run_on_a_dataset_directory(run_cli, workdir, pretrained, corpus_text):
    from harness.runlog.reader import read_log

    _jsonl(workdir / "ds" / "train.jsonl", [p for p in corpus_text.split("\n\n") if p.strip()][:300])
    result = run_cli("--model_name_or_path", str(pretrained), "--dataset_name", str(workdir / "ds"), "--do_train",
                     "--do_eval", "--max_steps", "2", "--block_size", "32", "--output_dir", "ds_v1.0")
    assert result.returncode == 0, result.stderr[-2000:]
    log = read_log(workdir / "logs" / "1.0.log")
    assert log.sections["config"]["data"]["dataset_name"] == str(workdir / "ds")
    assert [f["role"] for f in log.sections["data"]["files"]] == ["train"]
    assert "eval_loss" in log.metrics["eval"]
