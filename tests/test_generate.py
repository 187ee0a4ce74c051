"""Side-by-side generations on tiny models: seeds, templates, version resolution, LoRA, logs, the CLI."""

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from harness.cli.main import main as cli_main
from harness.errors import UserError
from harness.rerun import generate
from harness.rerun.generate import Source
from harness.runlog.reader import read_log
from harness.runlog.writer import RunLog
from harness.train import sampling as sampler
from harness.train.sampling import Sampling
from harness.train.templates import apply_template
from tests.tiny import CONF, ROOT, TINY

PROMPTS = ["Hey, how are you?", "The class"]
FAST = Sampling(max_new_tokens=12)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, cache_dir, corpus_text):
    """A from-scratch "pretrained" model p, fine-tune 3.4 starting from its directory, and 3.6 chained
    from 3.4 with another learning rate; 3.4 and 3.6 record samples at the end of their runs."""
    from hydra import compose, initialize_config_dir

    from harness.train.pipeline import Job, train

    root = tmp_path_factory.mktemp("gen")
    corpus = root / "train.txt"
    corpus.write_text(corpus_text, encoding="utf-8")
    base = [f"paths.logs_dir={root / 'logs'}", f"paths.output_root={root / 'outputs'}",
            f"paths.cache_dir={cache_dir}", f"data.train_file={corpus}", *TINY, "eval.max_new_tokens=12"]

    def run(*overrides):
        raw = {k: v for k, _, v in (o.partition("=") for o in overrides) if k in ("version", "init_from")}
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
            cfg = compose("config", overrides=base + list(overrides))
        train(cfg, Job(raw=raw, overrides=list(overrides)))

    prompts = "eval.prompts=[" + ",".join(json.dumps(p) for p in PROMPTS) + "]"
    run("version=p")
    run("version=3.4", f"model.name_or_path={root / 'outputs' / 'p'}", prompts)
    run("version=3.6", "init_from=3.4", "train.learning_rate=5e-3", prompts, "eval.template=instruction")
    return root


def _load(runs, version):
    return generate.load(Source(version, str(runs / "outputs" / version)))


# ----- no model needed -----

def test_instruction_template_and_unknown_template():
    assert apply_template("Hi {x}", "none") == "Hi {x}"
    assert apply_template("Sort a list {x}", "instruction") == (
        "### Instruction:\nSort a list {x}\n\n### Response:\n")
    with pytest.raises(UserError, match="unknown template 'chat'"):
        apply_template("Hi", "chat")


def test_sampling_settings_are_checked_and_greedy_drops_sampling_knobs():
    with pytest.raises(UserError, match="temperature must be > 0.*top_p must be in"):
        Sampling(temperature=0, top_p=1.5).checked()
    assert Sampling(do_sample=False).generate_kwargs(5) == {"do_sample": False, "max_new_tokens": 5}
    assert Sampling().generate_kwargs(5)["top_k"] == 50


def test_config_defaults_match_the_cli_defaults():
    conf = yaml.safe_load((CONF / "eval" / "default.yaml").read_text())
    assert conf.pop("prompts") == []
    assert Sampling.from_cfg(conf) == Sampling() and set(conf) == set(Sampling.__dataclass_fields__)


def test_bad_eval_config_fails_before_training(compose, workdir):
    from harness.train.pipeline import train

    with pytest.raises(UserError, match="eval.template must be one of none, instruction.*eval.top_p must be in"):
        train(compose("eval.template=chat", "eval.top_p=2"))
    with pytest.raises(UserError, match="eval.prompts must be a list of strings"):
        train(compose("eval.prompts=[1]"))
    assert not (workdir / "logs").exists() or not list((workdir / "logs").glob("*.log"))


def test_samples_round_trip_through_the_log(tmp_path):
    nasty = ["two\nlines", "a\n\nb", "  indented", "----- summary -----\nstatus: crashed", "{'loss': 1}",
             "3.4", "yes", "", "é 😀", "line\u2028sep".translate(sampler.LINE_SEPARATORS), "x\r\ny"]
    path = tmp_path / "x.log"
    path.touch()
    log = RunLog.create(path)
    log.section("samples", [{"prompt": t, "output": t} for t in nasty] + [{"prompt": "p", "output": "o",
                                                                           "version": "3.4"}])
    log.section("summary", {"weights": "w"})
    log.status("finished")
    log.close()
    samples = generate.samples_from_log(path)
    assert [s["output"] for s in samples[:-1]] == nasty and samples[-1] == {"prompt": "p", "output": "o",
                                                                             "version": "3.4"}
    assert read_log(path).fields["status"] == "finished"


def test_markdown_escapes_output_and_marks_missing_cells():
    records = [{"version": "a", "prompt": "p|1", "output": "x | y\n<b>z</b>"},
               {"version": "b", "prompt": "p2", "output": "w"}]
    text = sampler.render_markdown(records)
    assert text.splitlines() == ["| prompt | a | b |", "| --- | --- | --- |",
                                 "| p\\|1 | x \\| y<br>&lt;b>z&lt;/b> | (not recorded) |",
                                 "| p2 | (not recorded) | w |"]


def test_rich_table_has_a_column_per_version():
    import io

    from rich.console import Console

    console = Console(file=io.StringIO(), width=100, record=True, color_system=None)
    sampler.render_rich([{"version": "3.4", "prompt": "Hi", "output": "[bold]hello"},
                          {"version": "base", "prompt": "Hi", "output": "bye"}], console, caption="greedy")
    text = console.export_text()
    header = next(line for line in text.splitlines() if "prompt" in line)
    assert header.index("prompt") < header.index("3.4") < header.index("base")
    assert "[bold]hello" in text and "greedy" in text


# ----- resolving versions -----

def _fake_log(logs, name, **fields):
    logs.mkdir(exist_ok=True)
    lines = ["#### run_clm.py log (format 1) ####"] + [f"{k}: {v}" for k, v in fields.items()]
    (logs / f"{name}.log").write_text("\n".join(lines) + "\n")


def test_version_without_weights_is_a_clear_error(tmp_path):
    logs = tmp_path / "logs"
    (tmp_path / "outputs" / "gone").mkdir(parents=True)
    _fake_log(logs, "gone", version="gone", output_dir=tmp_path / "outputs" / "gone", status="finished")
    _fake_log(logs, "dead", version="dead", output_dir=tmp_path / "outputs" / "dead", status="crashed")
    with pytest.raises(UserError, match=r"version gone has no weights left: .*outputs/gone holds no model files"):
        generate.resolve_sources(["gone"], logs)
    with pytest.raises(UserError, match=r"version dead has no final weights: its status is crashed .*outputs/dead"):
        generate.resolve_sources(["dead"], logs)
    with pytest.raises(UserError, match="9.9 is neither a version in .*logs/ nor a directory"):
        generate.resolve_sources(["9.9"], logs)


def test_cli_reports_missing_weights_in_one_line(tmp_path, capsys):
    _fake_log(tmp_path / "logs", "gone", version="gone", output_dir=tmp_path / "nowhere", status="finished")
    code = cli_main(["generate", "--versions", "gone", "--prompt", "Hi", "--logs-dir", str(tmp_path / "logs")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: version gone has no weights left")


@pytest.mark.slow
def test_base_is_the_chains_root_model(runs):
    sources = generate.resolve_sources(generate.split_specs(["base,3.6", "3.4"]), runs / "logs")
    assert [s.label for s in sources] == ["base", "3.6", "3.4"]
    assert sources[0].weights == str(runs / "outputs" / "p")  # 3.6 -> 3.4 -> started from outputs/p
    assert generate.root_model("3.4", runs / "logs")[0] == str(runs / "outputs" / "p")


def test_base_of_a_from_scratch_chain_or_of_two_chains_needs_base_option(runs):
    with pytest.raises(UserError, match="version p was trained from scratch: there is no base model"):
        generate.resolve_sources(["base", "p"], runs / "logs")
    with pytest.raises(UserError, match="trained from scratch"):
        generate.resolve_sources(["base", "3.4", "p"], runs / "logs")
    sources = generate.resolve_sources(["3.4", "p"], runs / "logs", base="3.6")
    assert [(s.label, s.weights) for s in sources][0] == ("base", str(runs / "outputs" / "3.6"))


def test_ambiguous_base(runs, tmp_path):
    logs = tmp_path / "logs"
    shutil.copytree(runs / "logs", logs)
    _fake_log(logs, "other", version="other", output_dir=runs / "outputs" / "p", status="finished")
    (logs / "other.log").write_text((logs / "other.log").read_text() + "----- model -----\n"
                                    f"  init_weights: {runs / 'outputs' / '3.6'}\n")
    with pytest.raises(UserError, match="`base` is ambiguous: .*3.4 from .*other from .*--base"):
        generate.resolve_sources(["base", "3.4", "other"], logs)


# ----- generating with the tiny models -----

def test_fixed_seed_gives_the_same_text_every_time(runs):
    model, tokenizer = _load(runs, "3.4")
    first = sampler.generate_samples(model, tokenizer, PROMPTS, FAST)
    again = sampler.generate_samples(model, tokenizer, PROMPTS, FAST)
    other_seed = sampler.generate_samples(model, tokenizer, PROMPTS, Sampling(max_new_tokens=12, seed=1))
    assert first == again and all(s["output"] for s in first)
    assert first != other_seed
    assert [s["prompt"] for s in first] == PROMPTS


@pytest.mark.slow
def test_each_version_gives_its_own_output_whatever_the_order(runs):
    sources = generate.resolve_sources(["base", "3.4", "3.6"], runs / "logs")
    records = generate.run_sources(sources, PROMPTS[:1], FAST)
    outputs = [r["output"] for r in records]
    assert [r["version"] for r in records] == ["base", "3.4", "3.6"]
    assert len(set(outputs)) == 3, outputs
    backwards = generate.run_sources(sources[::-1], PROMPTS[:1], FAST)
    assert {r["version"]: r["output"] for r in backwards} == {r["version"]: r["output"] for r in records}


def test_template_is_what_the_model_reads(runs):
    model, tokenizer = _load(runs, "3.4")
    seen = []

    class Spy:
        def __getattr__(self, name):
            return getattr(tokenizer, name)

        def __call__(self, text, **kwargs):
            seen.append(text)
            return tokenizer(text, **kwargs)

    sampling = Sampling(max_new_tokens=8, template="instruction", do_sample=False)
    output = sampler.sample(model, Spy(), "List two colours", sampling)
    templated = "### Instruction:\nList two colours\n\n### Response:\n"
    assert seen == [templated]
    ids, prompt_len = sampler.complete(model, tokenizer, templated, sampling)
    full = tokenizer.decode(ids, skip_special_tokens=True)
    assert full.startswith(templated) and full[len(templated):] == output
    assert len(ids) == prompt_len + 8 or tokenizer.eos_token_id in ids.tolist()


def test_run_records_samples_that_the_saved_weights_reproduce(runs):
    log = read_log(runs / "logs" / "3.4.log")
    assert log.fields["status"] == "finished"
    assert list(log.sections).index("samples") < list(log.sections).index("summary")
    recorded = generate.samples_from_log(runs / "logs" / "3.4.log")
    assert [s["prompt"] for s in recorded] == PROMPTS
    model, tokenizer = _load(runs, "3.4")
    assert sampler.generate_samples(model, tokenizer, PROMPTS, FAST) == recorded
    chained = read_log(runs / "logs" / "3.6.log")
    assert chained.sections["config"]["eval"]["template"] == "instruction"
    assert generate.samples_from_log(runs / "logs" / "3.6.log") != recorded


def test_from_logs_shows_recorded_samples_without_loading(runs, capsys, monkeypatch):
    monkeypatch.setattr(generate, "load", lambda source: pytest.fail("--from-logs must not load a model"))
    code = cli_main(["generate", "--versions", "3.4,3.6", "--from-logs", "--format", "json",
                     "--logs-dir", str(runs / "logs"), "--prompt", PROMPTS[0]])
    samples = json.loads(capsys.readouterr().out)["samples"]
    assert code == 0 and [(s["version"], s["prompt"]) for s in samples] == [("3.4", PROMPTS[0]), ("3.6", PROMPTS[0])]
    assert samples[0]["output"] == generate.samples_from_log(runs / "logs" / "3.4.log")[0]["output"]
    assert cli_main(["generate", "--versions", "p", "--from-logs", "--logs-dir", str(runs / "logs")]) == 2
    assert "version p recorded no samples" in capsys.readouterr().err


@pytest.mark.slow
def test_lora_version_loads_its_adapter_onto_its_base(runs, tmp_path):
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM

    base_dir = runs / "outputs" / "p"
    lora = get_peft_model(AutoModelForCausalLM.from_pretrained(base_dir),
                          LoraConfig(r=4, target_modules=["c_attn"], init_lora_weights=False, fan_in_fan_out=True))
    adapter_dir = tmp_path / "outputs" / "lora1"
    lora.save_pretrained(adapter_dir)
    assert not (adapter_dir / "model.safetensors").exists()
    logs = tmp_path / "logs"
    _fake_log(logs, "lora1", version="lora1", parent="", output_dir=adapter_dir, status="finished")
    (logs / "lora1.log").write_text((logs / "lora1.log").read_text() + f"----- model -----\n  init_weights: {base_dir}\n")

    sources = generate.resolve_sources(["base", "lora1"], logs)
    assert sources[1].adapter_base == str(base_dir) and sources[0].weights == str(base_dir)
    model, _ = generate.load(sources[1])
    assert isinstance(model, PeftModel)
    records = generate.run_sources(sources, PROMPTS[:1], Sampling(max_new_tokens=8, do_sample=False))
    assert records[0]["output"] != records[1]["output"]
    by_path = generate.resolve_sources([str(adapter_dir)], logs)
    assert by_path[0].label == "lora1" and by_path[0].adapter_base == str(base_dir)


@pytest.mark.slow
def test_cli_prints_versions_side_by_side(runs, cache_dir):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HOME": str(cache_dir / "hf")}
    result = subprocess.run(
        [sys.executable, "-m", "harness", "generate", "--versions", "base,3.4", "--versions", "3.6",
         "--prompt", PROMPTS[0], "--max-new-tokens", "6", "--format", "markdown"],
        cwd=runs, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert "| prompt | base | 3.4 | 3.6 |" in lines
    assert any(line.startswith(f"| {PROMPTS[0]} |") for line in lines)
    assert "seed 0" in result.stdout and "Traceback" not in result.stderr


def test_prompt_longer_than_the_context_is_cut_not_a_crash(runs, capsys):
    model, tokenizer = _load(runs, "3.4")
    long_prompt = "The class statement defines a new type. " * 40
    [result] = sampler.generate_samples(model, tokenizer, [long_prompt], Sampling(max_new_tokens=200, do_sample=False))
    assert result["output"] and "keeping its last 32 tokens" in capsys.readouterr().err


@pytest.mark.slow
def test_failed_sampling_still_finishes_the_run(compose, workdir, monkeypatch):
    from harness.train.pipeline import train

    def broken(*args, **kwargs):
        raise RuntimeError("no room")

    monkeypatch.setattr(sampler, "generate_samples", broken)
    train(compose("version=s1", "train.max_steps=2", "eval.prompts=[Hi]"))
    log = read_log(workdir / "logs" / "s1.log")
    assert log.fields["status"] == "finished" and "samples" not in log.sections
    assert "sampling failed: RuntimeError: no room" in log.fields["warning"]
