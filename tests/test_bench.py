"""`harness bench`: int8 really quantizes, timings are sane, energy is read or n/a, the log round trip, errors."""

import copy
import json

import pytest

from harness.cli.main import main as cli_main
from harness.compare.readers.runlog import parse_runlog
from harness.errors import UserError
from harness.rerun import bench
from harness.rerun.generate import Source
from harness.runlog.reader import read_log
from harness.runlog.writer import RunLog
from harness.train.sampling import Sampling


@pytest.fixture(scope="module")
def gpt2():
    """A tiny GPT-2 (Conv1D layers) with random weights, built from a config."""
    import torch
    from transformers import AutoModelForCausalLM, GPT2Config

    torch.manual_seed(0)
    config = GPT2Config(n_layer=2, n_head=2, n_embd=64, n_positions=64, vocab_size=300, bos_token_id=0, eos_token_id=0)
    return AutoModelForCausalLM.from_config(config).eval()


def _ids():
    import torch

    return torch.randint(0, 300, (2, 16), generator=torch.Generator().manual_seed(1))


# ----- variants -----

def test_conv1d_becomes_an_equivalent_linear(gpt2):
    import torch
    from transformers.pytorch_utils import Conv1D

    model = copy.deepcopy(gpt2)
    with torch.no_grad():
        before = model(_ids()).logits
        assert bench.conv1d_to_linear(model) == 8  # c_attn, c_proj, c_fc, mlp c_proj in 2 layers
        after = model(_ids()).logits
    assert not any(isinstance(m, Conv1D) for m in model.modules())
    assert torch.allclose(before, after, atol=1e-5)


def test_int8_quantizes_every_linear_shrinks_and_stays_close(gpt2):
    import torch
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    model = copy.deepcopy(gpt2)
    quantized, notes = bench.quantize_int8(copy.deepcopy(gpt2))
    kinds = [type(m) for m in quantized.modules()]
    assert kinds.count(DynamicLinear) == 9  # 8 former Conv1D + lm_head
    assert torch.nn.Linear not in kinds
    assert "8 Conv1D layers" in notes[0]
    assert bench.state_dict_mb(quantized) < 0.6 * bench.state_dict_mb(model)
    with torch.no_grad():
        reference, got = model(_ids()).logits, quantized(_ids()).logits
    assert (got - reference).abs().max() < 0.05 * reference.abs().max()
    assert not torch.equal(got, reference)  # it really computes in int8


def test_int8_refuses_a_model_without_linear_layers():
    import torch

    with pytest.raises(UserError, match="no nn.Linear layers"):
        bench.quantize_int8(torch.nn.Sequential(torch.nn.Embedding(4, 4)))


def test_variants_parse_and_unsupported_ones_are_named():
    assert bench.parse_variants("fp32, int8,fp32") == ["fp32", "int8"]
    with pytest.raises(UserError, match="unknown variant int4"):
        bench.parse_variants("fp32,int4")
    full, lora = Source("3.4", "/x"), Source("3.5", "/y", adapter_base="/x")
    assert bench.variants_for(full, None) == ["fp32", "int8"]
    assert bench.variants_for(lora, None) == ["fp32", "int8", "adapter"]
    assert "no CUDA" in bench.unsupported("fp16", full, cuda=False, bf16_ok=False)
    assert "not a LoRA version" in bench.unsupported("adapter", full, cuda=False, bf16_ok=False)
    assert bench.unsupported("bf16", full, cuda=False, bf16_ok=False) is None


# ----- timing and energy -----

def test_timed_completion_is_positive_and_ordered(pretrained):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model, tokenizer = AutoModelForCausalLM.from_pretrained(pretrained).eval(), AutoTokenizer.from_pretrained(pretrained)
    sampling = Sampling(do_sample=False, max_new_tokens=6)
    timing, text = bench.timed_completion(model, tokenizer, "The class", sampling)
    assert timing["new_tokens"] == 6 and isinstance(text, str)
    assert 0 < timing["ttft_ms"] and 0 < timing["ms_per_token"] and 0 < timing["tokens_per_s"]
    # all six tokens take longer than the first alone
    assert 6 / timing["tokens_per_s"] * 1000 > timing["ttft_ms"]


def test_median_and_spread():
    assert bench.median_and_spread([None]) == (None, None)
    assert bench.median_and_spread([4.0]) == (4.0, 0.0)
    median, iqr = bench.median_and_spread([1.0, 2.0, 3.0, 4.0, 100.0])
    assert median == 3.0 and iqr == 2.0


def _rapl(root, energy_uj, max_uj=1000):
    domain = root / "intel-rapl:0"
    domain.mkdir(parents=True, exist_ok=True)
    (domain / "energy_uj").write_text(str(energy_uj))
    (domain / "max_energy_range_uj").write_text(str(max_uj))
    (root / "intel-rapl:0:0").mkdir(exist_ok=True)  # a sub-domain: part of the package, not counted again
    return domain


def test_rapl_energy_is_read_across_a_wrap(tmp_path):
    domain = _rapl(tmp_path, 900)
    meter = bench.EnergyMeter(cuda=False, rapl_root=tmp_path)
    assert meter.source.startswith("rapl (1 CPU package")
    assert meter.read() == 0.0
    (domain / "energy_uj").write_text("100")  # wrapped at 1000: 200 uJ later
    assert meter.read() == pytest.approx(200e-6)


def test_energy_is_na_with_a_reason(tmp_path):
    meter = bench.EnergyMeter(cuda=False, rapl_root=tmp_path)
    assert meter.read() is None and "no RAPL counter" in meter.reason
    domain = _rapl(tmp_path, 5)
    (domain / "energy_uj").unlink()
    (domain / "energy_uj").mkdir()  # unreadable as a file, like a root-only counter
    meter = bench.EnergyMeter(cuda=False, rapl_root=tmp_path)
    assert meter.read() is None and "not readable" in meter.reason


# ----- the table and the log -----

def _rows():
    def row(variant, ms, loss, size):
        values = {"device": "cpu", "load_s": 0.5, "disk_mb": 2.0, "size_mb": size, "peak_mem_mb": 30.0,
                  "peak_mem_kind": "cpu_rss_growth", "ttft_ms": 3 * ms, "ms_per_token": ms, "ms_per_token_iqr": 0.1,
                  "tokens_per_s": 1000 / ms, "new_tokens": 6, "eval_loss": loss, "perplexity": 2.0,
                  "eval_data": "the run's 4 evaluation blocks of 32 tokens", "energy_j_per_request": None,
                  "energy": "n/a: no RAPL counter"}
        return bench.Row("3.4", variant, values, [{"prompt": "Hi | <b>", "output": variant}])

    rows = [row("fp32", 10.0, 5.0, 4.0), row("int8", 5.0, 5.25, 1.5)]
    bench.add_deltas(rows)
    return rows


def test_table_marks_the_fastest_and_the_best():
    from harness.compare.formats import render

    table = bench.table(_rows(), ["energy n/a: no RAPL counter"])
    assert (1, "ms_per_token") in table.best and (0, "eval_loss") in table.best
    assert table.rows[1]["eval_loss_delta"] == pytest.approx(0.25)
    markdown = render(table, "markdown")
    assert "**5.00**" in markdown and "n/a" in markdown and "+0.2500" in markdown
    assert json.loads(render(table, "json"))["rows"][0]["variant"] == "fp32"


def _finished_log(path, output_dir="outputs/3.4"):
    log = RunLog.create(path)
    log.fields({"version": "3.4", "status": "finished", "output_dir": output_dir})
    log.metrics("eval", {"eval_loss": 5.0})
    log.close()


def test_bench_section_round_trip(tmp_path):
    from harness.compare.table import build_table

    path = tmp_path / "3.4.log"
    _finished_log(path)
    settings = bench.Settings(sampling=Sampling(do_sample=False, max_new_tokens=6), repeats=2)
    rows = _rows()
    assert bench.record(rows, {"3.4": path}, settings, ["Hi"]) == [str(path)]
    rows[1].values["ms_per_token"] = 4.0  # a later bench of int8 alone replaces int8, keeps fp32
    bench.record(rows[1:], {"3.4": path}, settings, ["Hi"])

    text = path.read_text()
    assert text.count("----- bench -----") == 2 and "status: finished" in text
    assert read_log(path).sections["bench"]["int8"]["ms_per_token"] == 4.0
    run, warnings = parse_runlog(str(path), text, "3.4")
    assert warnings == [] and run.status == "finished"
    assert run.bench["fp32"]["ms_per_token"] == 10.0 and run.bench["int8"]["ms_per_token"] == 4.0
    assert run.bench["int8"]["repeats"] == 2 and "greedy" in run.bench["int8"]["settings"]
    table = build_table([run], columns="version,eval_loss,ms_per_token,int8_ms_per_token,int8_eval_loss_delta")
    assert table.rows[0] == {"version": "3.4", "eval_loss": 5.0, "ms_per_token": 10.0, "int8_ms_per_token": 4.0,
                             "int8_eval_loss_delta": pytest.approx(0.25)}


def test_a_running_version_is_refused(tmp_path):
    path = tmp_path / "3.4.log"
    _finished_log(path)
    live = RunLog.append(path)  # a process holding the log, as a live run does
    try:
        with pytest.raises(UserError, match="is running"):
            bench.check_not_running({"3.4": path})
        with pytest.raises(UserError, match="still running"):
            bench.record(_rows(), {"3.4": path}, bench.Settings(), ["Hi"])
    finally:
        live.close()
    assert "bench" not in path.read_text()


def test_a_version_without_weights_is_one_error_line(tmp_path, capsys):
    (tmp_path / "logs").mkdir()
    _finished_log(tmp_path / "logs" / "3.4.log", output_dir=str(tmp_path / "outputs" / "3.4"))
    code = cli_main(["bench", "--versions", "3.4", "--logs-dir", str(tmp_path / "logs")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: version 3.4 has no weights left")


def test_bad_settings_are_errors_before_loading(tmp_path, capsys):
    assert cli_main(["bench", "--versions", "3.4", "--variants", "int4", "--logs-dir", str(tmp_path)]) == 2
    assert cli_main(["bench", "--versions", "3.4", "--repeats", "0", "--logs-dir", str(tmp_path)]) == 2
    assert cli_main(["bench", "--versions", "3.4", "--eval-file", str(tmp_path / "nope.txt")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in err] == ["error"] * 3 and "int4" in err[0] and "--repeats" in err[1]


# ----- end to end on trained versions -----

@pytest.mark.slow
def test_bench_end_to_end_on_a_full_and_a_lora_version(compose, workdir, pretrained, capsys):
    from harness.compare.load import load_runs
    from harness.compare.table import build_table
    from harness.train.pipeline import Job, train

    for overrides in (["version=3.4"], ["version=3.5", "peft=lora", "peft.r=4"]):
        train(compose(f"model.name_or_path={pretrained}", *overrides), Job())
    logs = workdir / "logs"
    capsys.readouterr()  # what training printed
    code = cli_main(["bench", "--versions", "base,3.4,3.5", "--variants", "fp32,int8,bf16,fp16,adapter", "--repeats", "2",
                     "--max-new-tokens", "5", "--prompt", "The class", "--prompt", "def f():", "--logs-dir", str(logs),
                     "--format", "json", "--show-outputs"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    rows = {(r["version"], r["variant"]): r for r in doc["rows"]}
    # fp16 has no CUDA here; `adapter` only exists for the LoRA version
    assert list(rows) == [("base", "fp32"), ("base", "int8"), ("base", "bf16"), ("3.4", "fp32"), ("3.4", "int8"),
                          ("3.4", "bf16"), ("3.5", "fp32"), ("3.5", "int8"), ("3.5", "bf16"), ("3.5", "adapter")]
    assert doc["warnings"][0].startswith("2 prompts x 2 repeats after 1 warm-up; greedy, max_new_tokens 5")
    assert any(w.startswith("fp16 skipped: no CUDA") for w in doc["warnings"])
    assert any(w.startswith("int8: 8 Conv1D layers") for w in doc["warnings"])
    for row in doc["rows"]:
        assert row["load_s"] > 0 and row["size_mb"] > 0 and row["peak_mem_mb"] >= 0 and row["ms_per_token_iqr"] >= 0
        assert 0 < row["ttft_ms"] and 0 < row["ms_per_token"] and row["tokens_per_s"] > 0
        assert row["energy_j_per_request"] == "n/a" or row["energy_j_per_request"] > 0
    for version in ("3.4", "3.5"):
        assert rows[(version, "int8")]["size_mb"] < rows[(version, "fp32")]["size_mb"]
        assert rows[(version, "bf16")]["size_mb"] < rows[(version, "fp32")]["size_mb"]
        assert rows[(version, "fp32")]["eval_loss_delta"] == 0
        # Quality on the same blocks the run evaluated: fp32 gives back the run's own eval_loss.
        recorded = read_log(logs / f"{version}.log").metrics["eval"]["eval_loss"]
        assert rows[(version, "fp32")]["eval_loss"] == pytest.approx(recorded, rel=1e-5)
        assert abs(rows[(version, "int8")]["eval_loss_delta"]) < 0.05 * recorded
    # `base` has no run log: it is measured on 3.4's blocks (same tokenizer), so its eval_loss compares
    assert rows[("base", "fp32")]["eval_loss"] > rows[("3.4", "fp32")]["eval_loss"]
    # merging the adapter does not change what the model computes
    assert rows[("3.5", "adapter")]["eval_loss"] == pytest.approx(rows[("3.5", "fp32")]["eval_loss"], rel=1e-5)
    assert {o["version"] for o in doc["outputs"]} >= {"3.4 fp32", "3.4 int8", "3.5 adapter"}

    runs, _ = load_runs([str(logs)], stale_after=30.0)
    table = build_table(runs, columns="version,ms_per_token,int8_ms_per_token,adapter_eval_loss", sort="version")
    assert [r["version"] for r in table.rows] == ["3.4", "3.5"]
    assert table.rows[0]["int8_ms_per_token"] == rows[("3.4", "int8")]["ms_per_token"]
    assert table.rows[0]["adapter_eval_loss"] is None and table.rows[1]["adapter_eval_loss"] is not None


def test_show_prints_the_bench_section(tmp_path, capsys):
    path = tmp_path / "3.4.log"
    _finished_log(path)
    bench.record(_rows(), {"3.4": path}, bench.Settings(), ["Hi"])
    assert cli_main(["show", "3.4", str(path), "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert "bench:" in out and "int8:  ms/token 5, TTFT ms 15," in out and "Δ vs fp32 0.25" in out


@pytest.mark.slow  # loads and runs a model four times, tokenizes a corpus
def test_a_model_directory_is_measured_on_eval_file_and_not_recorded(pretrained, corpus, tmp_path, capsys):
    logs = tmp_path / "logs"
    logs.mkdir()
    args = ["bench", "--versions", str(pretrained), "--variants", "fp32,int8", "--repeats", "1", "--warmup", "0",
            "--max-new-tokens", "3", "--prompt", "The class", "--logs-dir", str(logs), "--format", "json"]
    assert cli_main(args + ["--eval-file", str(corpus), "--max-eval-blocks", "4"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [r["variant"] for r in rows] == ["fp32", "int8"] and all(r["version"] == "tiny-gpt2" for r in rows)
    assert all(r["eval_loss"] > 0 and r["perplexity"] > 1 for r in rows)
    assert rows[1]["eval_loss_delta"] == pytest.approx(rows[1]["eval_loss"] - rows[0]["eval_loss"])

    assert cli_main(args) == 0  # no run log to re-make blocks from, no --eval-file: no quality, and a note says why
    doc = json.loads(capsys.readouterr().out)
    assert doc["rows"][0]["eval_loss"] is None
    assert "tiny-gpt2: eval_loss n/a: tiny-gpt2 has no run log to take evaluation blocks from; give --eval-file" in doc["warnings"]
    assert not list(logs.iterdir())  # nothing recorded: a directory is not a version
