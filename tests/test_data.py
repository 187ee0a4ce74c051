from dataclasses import replace

import pytest

from harness.errors import UserError
from harness.train import data as data_mod
from harness.train.config import DataConfig
from harness.train.data import DataFile, check_text_file, group_texts, prepare
from harness.train.modeling import tokenizer_identity, train_tokenizer

DATA_CFG = DataConfig(block_size=16, text_column="text", keep_linebreaks=True, validation_split_percentage=10,
                      max_train_samples=None, max_eval_samples=None, preprocessing_num_workers=None,
                      overwrite_cache=False)


def test_group_texts_concatenates_cuts_and_copies_labels():
    out = group_texts({"input_ids": [[1, 2, 3], [4, 5], [6, 7, 8, 9]], "attention_mask": [[1] * 3, [1] * 2, [1] * 4]}, 4)
    assert out["input_ids"] == [[1, 2, 3, 4], [5, 6, 7, 8]]  # the remainder [9] is dropped
    assert out["labels"] == out["input_ids"]
    assert out["labels"][0] is not out["input_ids"][0]
    assert out["attention_mask"] == [[1] * 4, [1] * 4]


def test_group_texts_shorter_than_one_block_gives_nothing():
    assert group_texts({"input_ids": [[1, 2]]}, 4)["input_ids"] == []


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    ("dir", "is a directory"),
    (b"", "is empty"),
    (b"   \n\n", "is empty"),
    (b"\x00\x01\x02binary", "not UTF-8 text"),
    (b"\xff\xfe\xfa\xfb" * 10, "not UTF-8 text"),
])
def test_check_text_file_refuses_bad_files(tmp_path, content, message):
    path = tmp_path / "x.txt"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        check_text_file(str(path), "train")


def test_check_text_file_refuses_unknown_extension(tmp_path):
    path = tmp_path / "weights.bin"
    path.write_text("hello")
    with pytest.raises(UserError, match="unsupported extension"):
        check_text_file(str(path), "train")


def test_check_text_file_fingerprints(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("hello world\n")
    record = check_text_file(str(path), "train")
    assert record.size == 12
    assert record.sha256 == "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"


@pytest.fixture
def tokenizer(corpus, cache_dir):
    name, tok = train_tokenizer([str(corpus)], 400, cache_dir)
    return tok, tokenizer_identity(tok, name)


def _prepare(path, tokenizer, cache_dir, **overrides):
    tok, tok_id = tokenizer
    return prepare(replace(DATA_CFG, **overrides), [check_text_file(str(path), "train")], tok, tok_id, cache_dir)


def test_prepare_packs_blocks_and_holds_out_validation(corpus, tokenizer, cache_dir):
    lm = _prepare(corpus, tokenizer, cache_dir)
    assert len(lm.train) > 10 and len(lm.eval) > 0
    assert all(len(ids) == 16 for ids in lm.train["input_ids"][:5])
    assert lm.train[0]["labels"] == lm.train[0]["input_ids"]


def test_prepare_second_time_comes_from_cache_and_edit_invalidates(tmp_path, corpus, tokenizer, cache_dir, monkeypatch):
    calls = []
    real = data_mod._build
    monkeypatch.setattr(data_mod, "_build", lambda *a, **k: (calls.append(1), real(*a, **k)))
    cache = tmp_path / "own-cache"
    first = _prepare(corpus, tokenizer, cache)
    second = _prepare(corpus, tokenizer, cache)
    assert (first.from_cache, second.from_cache, len(calls)) == (False, True, 1)
    assert second.train["input_ids"] == first.train["input_ids"]
    corpus.write_text(corpus.read_text() + "\nOne more line.\n")
    third = _prepare(corpus, tokenizer, cache)
    assert (third.from_cache, len(calls)) == (False, 2)


def test_prepare_limits_samples(corpus, tokenizer, cache_dir):
    lm = _prepare(corpus, tokenizer, cache_dir, max_train_samples=3, max_eval_samples=2)
    assert (len(lm.train), len(lm.eval)) == (3, 2)


def test_too_few_tokens_names_the_count_and_a_block_size_that_fits(tmp_path, tokenizer, cache_dir):
    path = tmp_path / "short.txt"
    path.write_text("a few words only\n")
    with pytest.raises(UserError, match=r"has \d+ tokens, fewer than one block of block_size=16; use data.block_size="):
        _prepare(path, tokenizer, cache_dir, validation_split_percentage=0)


def test_jsonl_with_text_column(tmp_path, tokenizer, cache_dir, corpus_text):
    import json

    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps({"body": p}) + "\n" for p in corpus_text.split("\n\n")[:200]))
    lm = _prepare(path, tokenizer, cache_dir, text_column="body")
    assert len(lm.train) > 5
    with pytest.raises(UserError, match="no column 'text'"):
        _prepare(path, tokenizer, cache_dir, overwrite_cache=True)


def test_datafile_record():
    assert DataFile("train", "/x", 3, "abc").record() == {"role": "train", "path": "/x", "size": 3, "sha256": "abc"}


@pytest.mark.parametrize("rows, percent", [(11452, 5), (21, 5), (19, 5), (30, 10), (7, 50), (1000, 1), (333, 3)])
def test_validation_split_is_datasets_own_percent_slice(tmp_path, rows, percent):
    """The rows held out are exactly HF run_clm.py's `train[:N%]`, and training gets its `train[N%:]`."""
    from datasets import load_dataset

    path = tmp_path / "lines.txt"
    path.write_text("".join(f"line {i}\n" for i in range(rows)))
    files = [check_text_file(str(path), "train")]
    ours = data_mod.load_raw(replace(DATA_CFG, validation_split_percentage=percent), files)
    # run_clm.py's own calls (keep_linebreaks=True is its default, and ours)
    theirs_eval = load_dataset("text", data_files={"train": str(path)}, split=f"train[:{percent}%]",
                               keep_linebreaks=True)
    theirs_train = load_dataset("text", data_files={"train": str(path)}, split=f"train[{percent}%:]",
                                keep_linebreaks=True)
    ours_eval = list(ours["validation"]["text"]) if "validation" in ours else []
    assert ours_eval == list(theirs_eval["text"])
    assert list(ours["train"]["text"]) == list(theirs_train["text"])


def test_validation_split_rounds_to_the_closest_row():
    assert data_mod.held_out_rows(11452, 5) == 573  # int(11452 * 5 / 100) would be 572
    assert data_mod.held_out_rows(100, 0) == 0


def test_text_column_null_takes_text_else_the_first_column(tmp_path):
    """HF run_clm.py's rule, which its translated command lines get (data.text_column=null)."""
    path = tmp_path / "rows.csv"
    path.write_text("content,label\nfirst row,1\nsecond row,0\n")
    files = [check_text_file(str(path), "train")]
    tokenize = data_mod._tokenizer_for(replace(DATA_CFG, text_column=None), ["content", "label"], lambda t, **k: t)
    assert tokenize({"content": ["a"], "label": [1]}) == ["a"]
    with pytest.raises(UserError, match="train file has no column 'text'"):
        data_mod._tokenizer_for(DATA_CFG, ["content", "label"], None)
    assert data_mod.load_raw(DATA_CFG, files)["train"].column_names == ["content", "label"]


def test_a_resume_reads_a_data_file_once_and_sees_an_edit(tmp_path, monkeypatch):
    """changed_files (is it the recorded file?) and check_text_file (its fingerprint for the new log) share one
    read of the file; an edit (new size or mtime) is read again."""
    from harness.train import data as data_module

    path = tmp_path / "train.txt"
    path.write_text("hello world\n" * 100)
    reads = []
    real = data_module._read_fingerprint
    monkeypatch.setattr(data_module, "_read_fingerprint", lambda p: (reads.append(p), real(p))[1])
    record = data_module.check_text_file(str(path), "train").record()
    assert data_module.changed_files({"files": [record]}) == [] and len(reads) == 1
    path.write_text("hello there\n" * 101)
    assert "changed since the run" in data_module.changed_files({"files": [record]})[0] and len(reads) == 2
