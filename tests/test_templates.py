"""Instruction records through data.template=alpaca: prompt text, EOS, the response-only label mask."""

import json
from dataclasses import replace

import pytest

from harness.errors import UserError
from harness.train import data as data_mod
from harness.train.config import DataConfig
from harness.train.data import check_text_file, prepare
from harness.train.modeling import tokenizer_identity, train_tokenizer
from harness.train.templates import alpaca_prompt, tokenize_records

RECORDS = [
    {"instruction": "Name a colour.", "input": "", "output": "Blue."},
    {"instruction": "Add the numbers.", "input": "2 and {3}", "output": "5"},
]
DATA_CFG = DataConfig(block_size=16, text_column="text", keep_linebreaks=True, validation_split_percentage=10,
                      max_train_samples=None, max_eval_samples=None, preprocessing_num_workers=None,
                      overwrite_cache=False, template="alpaca", train_on_response_only=False)


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory, corpus_text, cache_dir):
    text = tmp_path_factory.mktemp("tok") / "text.txt"
    text.write_text(corpus_text + "\n### Instruction:\n### Input:\n### Response:\n", encoding="utf-8")
    name, tok = train_tokenizer([str(text)], 400, cache_dir)
    return tok, tokenizer_identity(tok, name)


def test_alpaca_prompt_is_the_stanford_layout():
    assert alpaca_prompt("Name a colour.") == (
        "Below is an instruction that describes a task. Write a response that appropriately completes the "
        "request.\n\n### Instruction:\nName a colour.\n\n### Response:\n")
    with_input = alpaca_prompt("Add the numbers.", "2 and {3}")
    assert "paired with an input" in with_input
    assert with_input.endswith("### Instruction:\nAdd the numbers.\n\n### Input:\n2 and {3}\n\n### Response:\n")


@pytest.mark.parametrize("response_only", [False, True])
def test_records_become_prompt_response_and_eos(tokenizer, response_only):
    tok, _ = tokenizer
    batch = {k: [r[k] for r in RECORDS] for k in RECORDS[0]}
    out = tokenize_records(batch, tok, response_only)
    for record, ids, labels in zip(RECORDS, out["input_ids"], out["labels"]):
        prompt = alpaca_prompt(record["instruction"], record["input"])
        assert tok.decode(ids) == prompt + record["output"] + tok.eos_token
        assert ids[-1] == tok.eos_token_id
        trained = [t for t in labels if t != -100]
        if response_only:
            assert tok.decode(trained) == record["output"] + tok.eos_token
            assert labels[: len(ids) - len(trained)] == [-100] * (len(ids) - len(trained))
        else:
            assert labels == ids


def _records_file(tmp_path, suffix=".jsonl", n=60):
    path = tmp_path / f"records{suffix}"
    rows = [{**RECORDS[i % 2], "output": f"{RECORDS[i % 2]['output']} {i}"} for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_packed_blocks_keep_the_mask(tmp_path, tokenizer, cache_dir):
    tok, tok_id = tokenizer
    files = [check_text_file(str(_records_file(tmp_path)), "train")]
    masked = prepare(replace(DATA_CFG, train_on_response_only=True), files, tok, tok_id, tmp_path / "c")
    full = prepare(DATA_CFG, files, tok, tok_id, tmp_path / "c")
    assert not masked.from_cache and not full.from_cache  # the setting is part of the cache key
    assert masked.train["input_ids"] == full.train["input_ids"]
    labels = [t for block in masked.train["labels"] for t in block]
    assert -100 in labels and any(t != -100 for t in labels)
    assert all(t != -100 for block in full.train["labels"] for t in block)
    assert masked.record(tok_id)["template"] == "alpaca"


def test_template_needs_records(tmp_path, tokenizer, corpus):
    tok, tok_id = tokenizer
    with pytest.raises(UserError, match="reads records: give a .json, .jsonl or .csv"):
        prepare(DATA_CFG, [check_text_file(str(corpus), "train")], tok, tok_id, tmp_path / "c")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt": "x", "output": "y"}) + "\n")
    with pytest.raises(UserError, match="needs records with instruction, output .* has no instruction"):
        prepare(DATA_CFG, [check_text_file(str(bad), "train")], tok, tok_id, tmp_path / "c")


def test_response_only_needs_a_template(tmp_path, tokenizer, corpus):
    tok, tok_id = tokenizer
    cfg = replace(DATA_CFG, template="none", train_on_response_only=True)
    with pytest.raises(UserError, match="needs instruction records: set data.template=alpaca"):
        data_mod.prepare(cfg, [check_text_file(str(corpus), "train")], tok, tok_id, tmp_path / "c")


def test_generate_uses_the_template_a_version_trained_with(tmp_path):
    from harness.rerun.generate import resolve_sources
    from harness.train.templates import apply_template

    logs, weights = tmp_path / "logs", tmp_path / "outputs" / "2.0"
    logs.mkdir()
    weights.mkdir(parents=True)
    (weights / "model.safetensors").write_bytes(b"")
    for version, template in (("2.0", "alpaca"), ("2.1", None)):
        data = f"  data:\n    template: {template}\n" if template else "  data: {}\n"
        (logs / f"{version}.log").write_text(f"#### run_clm.py log (format 1) ####\nversion: {version}\n"
                                             f"status: finished\noutput_dir: {weights}\n----- config -----\n{data}")
    sources = resolve_sources(["2.0", "2.1"], logs)
    assert [s.template for s in sources] == ["alpaca", "none"]
    assert apply_template("Name a colour.", "alpaca") == alpaca_prompt("Name a colour.")


@pytest.mark.slow
def test_alpaca_run_records_the_template(run_cli, workdir, tmp_path):
    from harness.runlog.reader import read_log
    from tests.tiny import TINY

    records = _records_file(tmp_path, ".json", n=200)
    result = run_cli(f"data.train_file={records}", *TINY, "data.template=alpaca", "data.train_on_response_only=true",
                     "version=al", "train.max_steps=2")
    assert result.returncode == 0, result.stderr[-2000:]
    log = read_log(workdir / "logs" / "al.log")
    assert log.sections["config"]["data"]["template"] == "alpaca"
    assert log.sections["data"]["template"] == "alpaca"
    assert log.sections["data"]["train_on_response_only"] is True
