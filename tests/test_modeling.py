"""The real loading path for hub models (gpt2, pythia), exercised with local directories and an HF cache."""

from dataclasses import replace

import pytest

from harness.errors import UserError
from harness.runlog.reader import read_log
from harness.train.config import ModelConfig
from harness.train.modeling import build_model, load_tokenizer, train_tokenizer
from harness.train.pipeline import train
from tests.tiny import TINY


@pytest.fixture(scope="module")
def bpe(tmp_path_factory, corpus_text):
    folder = tmp_path_factory.mktemp("bpe")
    text = folder / "t.txt"
    text.write_text(corpus_text)
    return train_tokenizer([str(text)], 400, folder)[1]


def _save_pretrained(directory, kind, tokenizer):
    from transformers import GPT2Config, GPT2LMHeadModel, GPTNeoXConfig, GPTNeoXForCausalLM

    ids = {"vocab_size": len(tokenizer), "bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id}
    if kind == "gpt2":
        model = GPT2LMHeadModel(GPT2Config(n_layer=2, n_head=2, n_embd=64, n_positions=64, **ids))
    else:
        model = GPTNeoXForCausalLM(GPTNeoXConfig(num_hidden_layers=2, num_attention_heads=2, hidden_size=64,
                                                 intermediate_size=128, max_position_embeddings=64, **ids))
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.mark.slow
@pytest.mark.parametrize("group, kind", [("gpt2", "gpt2"), ("pythia-70m", "gpt_neox")])
def test_fine_tune_a_local_pretrained_directory(compose, workdir, tmp_path, bpe, group, kind):
    source = _save_pretrained(tmp_path / kind, kind, bpe)
    not_model = [o for o in TINY if not o.startswith("model.")]
    metrics = train(compose(f"model={group}", f"model.name_or_path={source}", *not_model, "train.max_steps=4", tiny=False))
    log = read_log(workdir / "logs" / f"{metrics['version']}.log")
    assert log.sections["config"]["model"]["name_or_path"] == str(source)
    assert log.sections["data"]["tokenizer"].startswith(f"{source}@sha256:")

    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(metrics["weights"]).config.model_type == kind


@pytest.mark.slow
def test_model_from_the_hugging_face_cache_by_hub_id(run_cli, workdir, tmp_path, bpe, corpus):
    hub = tmp_path / "hf" / "hub" / "models--gpt2"
    _save_pretrained(hub / "snapshots" / "0123abc", "gpt2", bpe)
    (hub / "refs").mkdir()
    (hub / "refs" / "main").write_text("0123abc")
    result = run_cli("model=gpt2", f"data.train_file={corpus}", "data.block_size=32", "train.max_steps=2",
                     "train.per_device_train_batch_size=2", env={"HF_HOME": str(tmp_path / "hf")})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "status: finished" in (workdir / "logs" / "1.0.log").read_text()


def test_config_overrides_must_exist(bpe):
    base = ModelConfig(name_or_path=None, model_type="gpt2", config_overrides={"n_layr": 2}, revision="main",
                       trust_remote_code=False, local_files_only=True, tokenizer_name=None)
    with pytest.raises(UserError, match="GPT2Config has no such setting"):
        build_model(base, None, bpe, "float32")
    with pytest.raises(UserError, match="not a known architecture"):
        build_model(replace(base, model_type="no-such-arch", config_overrides={}), None, bpe, "float32")


def test_missing_local_model_dir_is_clear(tmp_path):
    cfg = ModelConfig(tokenizer_name=None, revision="main", trust_remote_code=False, local_files_only=True)
    with pytest.raises(UserError, match="does not exist"):
        load_tokenizer(cfg, str(tmp_path / "nope"), [], tmp_path)
