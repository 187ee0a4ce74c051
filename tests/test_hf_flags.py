"""HF run_clm.py command lines: translated into the overrides that mean the same here."""

import json
import shlex

import pytest

from harness.errors import UserError
from harness.train.hf_flags import hf_training_defaults, translate, version_from_output_dir

# TrainingArguments' defaults where conf/train/default.yaml differs (transformers 5.x): every translation ends so.
HF_TRAIN = ["train.learning_rate=5e-05", "train.logging_steps=500", "train.eval_strategy=no", "train.save_steps=500",
            "train.save_total_limit=null"]


def _without_defaults(overrides, *keep):
    """The overrides, less the HF defaults that every translation appends (unless the line set them)."""
    return [o for o in overrides if o not in HF_TRAIN or o in keep]


def _overrides(line: str) -> list[str]:
    return translate(shlex.split(line)).argv


def test_the_issue_notebook_line():
    line = ('--model_type gpt2 --model_name_or_path gpt2 --train_file "TestData.txt" --do_train '
            '--validation_file "TestData.txt" --do_eval --per_device_train_batch_size 2 --save_steps -1 '
            '--num_train_epochs 1 --fp16 --output_dir="finetuned_model_v3.0" --learning_rate 1e-3')
    assert _overrides(line) == [
        "model=pretrained", "model.name_or_path=gpt2", "version=3.0", "data.train_file=TestData.txt",
        "data.validation_file=TestData.txt", "data.block_size=null", "data.text_column=null", "train.per_device_train_batch_size=2",
        "train.save_steps=-1", "train.num_train_epochs=1", "train.fp16=true", "train.learning_rate=0.001",
        "train.logging_steps=500", "train.eval_strategy=no", "train.save_total_limit=null"]


def test_chaining_from_an_earlier_versions_output_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "3.4.log").write_text("")
    line = ('--model_type gpt2 --model_name_or_path "finetuned_model_v3.4" --train_file "TestData.txt" --do_train '
            '--output_dir finetuned_model_v3.5')
    assert _overrides(line)[:3] == ["model=pretrained", "init_from=3.4", "version=3.5"]
    assert _overrides("--model_name_or_path outputs/3.4/ --train_file a.txt --do_train")[:2] == [
        "model=pretrained", "init_from=3.4"]
    # no log for that version: it is a model path like any other
    assert _overrides("--model_name_or_path finetuned_model_v2.0 --do_train")[:2] == [
        "model=pretrained", "model.name_or_path=finetuned_model_v2.0"]


def test_chaining_looks_in_the_logs_dir_the_line_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "v7.log").write_text("")
    argv = translate(["--model_name_or_path", "out/v7", "--do_train", "paths.logs_dir=elsewhere"]).argv
    assert argv[:2] == ["model=pretrained", "init_from=v7"]
    assert argv[-1] == "paths.logs_dir=elsewhere"


def test_from_scratch_with_config_overrides():
    argv = _overrides("--model_type gpt2 --config_overrides n_embd=10,resid_pdrop=0.2,scale_attn_weights=false "
                      "--tokenizer_name gpt2 --train_file a.txt --do_train --output_dir /tmp/test-clm")
    assert _without_defaults(argv) == [
        "model=scratch", "model.model_type=gpt2", "++model.config_overrides.n_embd=10",
        "++model.config_overrides.resid_pdrop=0.2", "++model.config_overrides.scale_attn_weights=false",
        "version=test-clm", "+train.do_eval=false", "model.tokenizer_name=gpt2", "data.train_file=a.txt",
        "data.block_size=null", "data.text_column=null"]


def test_hub_dataset_line_of_hfs_readme():
    argv = _overrides("--model_name_or_path openai-community/gpt2 --dataset_name wikitext --dataset_config_name "
                      "wikitext-2-raw-v1 --per_device_train_batch_size 8 --per_device_eval_batch_size 8 --do_train "
                      "--do_eval --output_dir /tmp/test-clm")
    assert argv == ["model=pretrained", "model.name_or_path=openai-community/gpt2", "version=test-clm",
                    "data.dataset_name=wikitext", "data.dataset_config_name=wikitext-2-raw-v1", "data.block_size=null", "data.text_column=null",
                    "train.per_device_train_batch_size=8", "train.per_device_eval_batch_size=8", *HF_TRAIN]


def test_json_args_file_is_the_same_as_its_flags(tmp_path):
    args = {"model_name_or_path": "gpt2", "train_file": "a.txt", "do_train": True, "do_eval": True, "fp16": True,
            "keep_linebreaks": False, "report_to": ["none"], "output_dir": "out_v1.2", "tokenizer_name": None,
            "learning_rate": 0.0002}
    path = tmp_path / "args.json"
    path.write_text(json.dumps(args))
    from_file = translate([str(path)])
    assert from_file.argv == _overrides("--model_name_or_path gpt2 --train_file a.txt --do_train --do_eval --fp16 "
                                        "--no_keep_linebreaks --report_to none --output_dir out_v1.2 "
                                        "--learning_rate 2e-4")
    assert "train.report_to=[none]" in from_file.argv
    assert from_file.hf_command == f"python run_clm.py {path}"


def test_both_styles_mix_and_the_hydra_side_wins():
    argv = _overrides("--model_name_or_path=gpt2 -m train.learning_rate=1e-4,1e-5 --do_train --fp16 false "
                      "--per_device_train_batch_size=4 version=9.9 --output_dir out_v3.0 --cfg job "
                      "--config-dir=/etc/conf")
    assert "version=3.0" not in argv and "train.learning_rate=5e-05" not in argv
    assert argv[-6:] == ["-m", "train.learning_rate=1e-4,1e-5", "version=9.9", "--cfg", "job", "--config-dir=/etc/conf"]
    assert "train.fp16=false" in argv and "train.per_device_train_batch_size=4" in argv


def test_do_eval_and_eval_strategy_decide_whether_it_evaluates():
    assert "+train.do_eval=false" in _overrides("--model_name_or_path gpt2 --do_train")
    assert "+train.do_eval=false" not in _overrides("--model_name_or_path gpt2 --do_train --do_eval")
    with_strategy = _overrides("--model_name_or_path gpt2 --do_train --eval_strategy steps --eval_steps 50")
    assert "+train.do_eval=false" not in with_strategy
    assert "train.eval_strategy=steps" in with_strategy and "+train.eval_steps=50" in with_strategy


def test_quoting_keeps_strings_strings():
    argv = _overrides("--model_name_or_path gpt2 --do_train --train_file 'my data.txt' --run_name 3 "
                      "--validation_file true.txt")
    assert "data.train_file='my data.txt'" in argv
    assert "+train.run_name='3'" in argv
    assert "data.validation_file=true.txt" in argv


def test_a_line_without_hf_flags_is_left_to_hydra():
    assert translate(["train.seed=3", "-m", "--cfg", "job"]) is None
    assert translate([]) is None


@pytest.mark.parametrize("line, message", [
    ("--model_name_or_path gpt2 --do_train --lerning_rate 1", "--lerning_rate is not a flag of HF's run_clm.py "
                                                              "(did you mean --learning_rate?)"),
    ("--model_name_or_path gpt2 --do_train --config_name c.json", "--config_name has no equivalent here"),
    ("--model_name_or_path gpt2 --do_train --resume_from_checkpoint x", "use resume=<version>"),
    ("--model_name_or_path gpt2 --do_eval", "the command has no --do_train"),
    ("--model_name_or_path gpt2 --do_train --learning_rate abc", "--learning_rate takes a number, got 'abc'"),
    ("--model_name_or_path gpt2 --do_train --streaming", "--streaming has no equivalent here"),
    ("--train_file a.txt --do_train", "give --model_name_or_path"),
    ("--model_name_or_path gpt2 --do_train --output_dir", "--output_dir needs a value"),
])
def test_flags_without_an_equivalent_are_one_clear_error(line, message):
    with pytest.raises(UserError, match="^HF run_clm.py flags: .*" + message.replace("(", r"\(").replace(")", r"\)")
                       .replace("?", r"\?").replace("*", r"\*")):
        translate(shlex.split(line))


@pytest.mark.parametrize("path, version", [
    ("finetuned_model_v3.0", "3.0"), ("finetuned_model_v3.4/", "3.4"), ("outputs/3.4", "3.4"), ("run-v12", "12"),
    ("/tmp/test-clm", "test-clm"), ("model v2", None),
])
def test_output_dir_names_the_version(path, version):
    assert version_from_output_dir(path) == version


def test_hf_defaults_are_transformers_own():
    import dataclasses

    from transformers import TrainingArguments

    fields = {f.name: f.default for f in dataclasses.fields(TrainingArguments)}
    defaults = hf_training_defaults()
    assert defaults and all(getattr(fields[k], "value", fields[k]) == v for k, v in defaults.items())


def test_every_translation_composes_and_validates(compose):
    """The overrides exist in conf/ and pass the config check (no typo in a generated key)."""
    from harness.train.config import validate

    argv = _overrides("--model_type gpt2 --config_overrides n_embd=64,n_layer=2 --do_train --do_eval "
                      "--save_steps -1 --fp16 --output_dir=ft_v1.0 --report_to none --no_keep_linebreaks "
                      "--validation_split_percentage 10 --torch_dtype float32 --trust_remote_code false")
    cfg = compose(*argv, tiny=False)
    validate(cfg)
    assert cfg.model.config_overrides == {"n_embd": 64, "n_layer": 2}
    assert cfg.train.save_steps == -1 and cfg.data.block_size is None and cfg.data.keep_linebreaks is False


@pytest.mark.slow
def test_hf_line_trains_names_the_version_records_both_and_chains(run_cli, workdir, corpus, pretrained):
    from harness.runlog.reader import read_log

    common = ["--train_file", str(corpus), "--do_train", "--max_steps", "2", "--block_size", "32",
              "--per_device_train_batch_size", "4"]
    first = run_cli("--model_type", "gpt2", "--model_name_or_path", str(pretrained), *common, "--do_eval",
                    "--save_steps", "-1", "--output_dir=finetuned_model_v3.0")
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stderr.count("same as: python run_clm.py model=pretrained") == 1
    log = read_log(workdir / "logs" / "3.0.log")
    assert log.fields["hf_command"].startswith("python run_clm.py --model_type gpt2 --model_name_or_path")
    assert log.fields["command"].startswith("python run_clm.py model=pretrained model.name_or_path=")
    assert "eval_loss" in log.metrics["eval"]
    assert log.sections["environment"]["loss_denominator"] == "predicted_tokens"
    assert not list((workdir / "outputs" / "3.0").glob("checkpoint-1"))  # save_steps -1: only the final one

    second = run_cli("--model_name_or_path", "finetuned_model_v3.0", *common, "--output_dir", "finetuned_model_v3.1")
    assert second.returncode == 0, second.stderr[-2000:]
    log = read_log(workdir / "logs" / "3.1.log")
    assert log.fields["parent"] == "3.0"
    assert not log.metrics.get("eval")  # no --do_eval: no evaluation, as in HF's script


def test_bad_flag_is_one_line_and_exit_2(run_cli):
    result = run_cli("--model_name_or_path", "gpt2", "--do_train", "--no_such_flag", "1")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: HF run_clm.py flags: --no_such_flag is not a flag of HF's run_clm.py"]
