"""`harness bench`: what each version costs to run, at full precision and quantized, next to what it knows.

For every (version, variant): load time, size on disk and as a state dict, peak memory, time to first token,
ms per generated token and tokens/s (median and spread over repeats, after a warm-up), energy per request
where a counter is readable, and eval_loss / perplexity on the version's own evaluation blocks (or
--eval-file) with the delta against the unquantized model. Results render through the comparison-table
machinery (harness/compare/table.py, formats.py) and are appended to each version's log as a `bench` section.

Variants: fp32; int8 = torch.ao.quantization.quantize_dynamic of the nn.Linear layers (GPT-2's Conv1D layers
are converted to nn.Linear first, or nothing would be quantized); bf16 / fp16 where the device runs them;
LoRA versions are merged first, and `adapter` measures the unmerged adapter on its base.
torch and transformers are imported inside functions: building the CLI's parsers must stay cheap.
"""

from __future__ import annotations

import io
import re
import statistics
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness import versions
from harness.errors import UserError
from harness.rerun import generate
from harness.rerun.generate import Source
from harness.rerun.reproduce import user_paths
from harness.train import metrics
from harness.train import sampling as sampling_mod
from harness.train.config import DataConfig
from harness.train.sampling import Sampling
from harness.train.templates import apply_template

VARIANTS = ("fp32", "int8", "bf16", "fp16", "adapter")
DEFAULT_VARIANTS = ("fp32", "int8")  # plus `adapter` for LoRA versions
# Used when neither --prompt nor --prompts-file is given: short, neutral, the same for every row.
DEFAULT_PROMPTS = ["The meaning of life is", "def main():", "Hey, how are you?"]
CAPTION_PREFIX = "bench"
# The data.* keys that decide how a run's blocks were made: a log without one cannot say (it predates the key).
PACKING_KEYS = ("text_column", "keep_linebreaks", "validation_split_percentage", "max_train_samples",
                "max_eval_samples")


@dataclass(frozen=True)
class Settings:
    sampling: Sampling = field(default_factory=lambda: Sampling(do_sample=False))
    repeats: int = 3
    warmup: int = 1
    eval_file: str | None = None
    max_eval_blocks: int | None = None
    eval_batch_size: int = 8
    quality: bool = True

    def checked(self) -> Settings:
        if self.repeats < 1 or self.warmup < 0:
            raise UserError(f"--repeats must be >= 1 and --warmup >= 0, got {self.repeats} and {self.warmup}")
        if self.max_eval_blocks is not None and self.max_eval_blocks < 1:
            raise UserError(f"--max-eval-blocks must be >= 1, got {self.max_eval_blocks}")
        if self.eval_file is not None:
            from harness.train.data import check_text_file

            check_text_file(self.eval_file, "--eval-file")
        self.sampling.checked()
        return self

    def describe(self, prompts: int) -> str:
        return f"{prompts} prompts x {self.repeats} repeats after {self.warmup} warm-up; {self.sampling.describe()}"


@dataclass
class Row:
    """One (version, variant): what `measure` found, as table cells and as the log's entry."""

    version: str
    variant: str
    values: dict = field(default_factory=dict)
    outputs: list = field(default_factory=list)  # {prompt, output} of the first timed repeat
    notes: list = field(default_factory=list)


# ----- variants: the same weights at another precision -----

def conv1d_to_linear(model) -> int:
    """Replace every transformers Conv1D (GPT-2's y = x @ W + b, W stored as in x out) by the nn.Linear that
    computes the same (weight transposed). Dynamic quantization only knows nn.Linear. Returns how many."""
    from transformers.pytorch_utils import Conv1D

    count = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, Conv1D):
                setattr(parent, name, _as_linear(child))
                count += 1
    return count


def _as_linear(conv):
    import torch

    n_in, n_out = conv.weight.shape
    linear = torch.nn.Linear(n_in, n_out, bias=conv.bias is not None, device=conv.weight.device,
                             dtype=conv.weight.dtype)
    with torch.no_grad():
        linear.weight.copy_(conv.weight.t())
        if conv.bias is not None:
            linear.bias.copy_(conv.bias)
    return linear


def quantize_int8(model) -> tuple[object, list[str]]:
    """(int8 model on the CPU, notes). PyTorch's dynamic quantization: int8 weights, activations quantized
    on the fly; it runs on the CPU only."""
    import torch

    model = model.to("cpu", dtype=torch.float32).eval()
    notes = []
    converted = conv1d_to_linear(model)
    if converted:
        notes.append(f"int8: {converted} Conv1D layers (not nn.Linear) converted to nn.Linear before quantizing")
    linears = sum(isinstance(m, torch.nn.Linear) for m in model.modules())
    if linears == 0:
        raise UserError(f"int8: {type(model).__name__} has no nn.Linear layers, so dynamic quantization would "
                        "change nothing")
    with warnings.catch_warnings():
        # torch 2.13 announces that torch.ao.quantization moves to torchao; the API still works as documented.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*")
        quantized = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    return quantized, notes


def _to_dtype(name: str):
    def convert(model):
        import torch

        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[name]
        return model.to(dtype=dtype), []
    return convert


TRANSFORMS = {"fp32": lambda m: (m, []), "adapter": lambda m: (m, []), "int8": quantize_int8,
              "bf16": _to_dtype("bf16"), "fp16": _to_dtype("fp16")}


def unsupported(variant: str, source: Source, cuda: bool, bf16_ok: bool) -> str | None:
    """Why this variant cannot run here, or None."""
    if variant == "fp16" and not cuda:
        return "fp16 skipped: no CUDA device (CPU half-precision matmuls are emulated, so timings would mislead)"
    if variant == "bf16" and cuda and not bf16_ok:
        return "bf16 skipped: this GPU does not support bfloat16"
    if variant == "adapter" and not source.adapter_base:
        return f"adapter skipped for {source.label}: not a LoRA version (no adapter_config.json)"
    return None


def parse_variants(spec: str | None) -> list[str] | None:
    """None = the default (fp32, int8, and adapter for LoRA versions)."""
    if spec is None:
        return None
    names = list(dict.fromkeys(v.strip() for v in spec.split(",") if v.strip()))
    unknown = [v for v in names if v not in VARIANTS]
    if unknown or not names:
        raise UserError(f"unknown variant {', '.join(unknown) or '(none given)'}; use some of {', '.join(VARIANTS)}")
    return names


def variants_for(source: Source, requested: list[str] | None) -> list[str]:
    if requested is not None:
        return requested
    return [*DEFAULT_VARIANTS, "adapter"] if source.adapter_base else list(DEFAULT_VARIANTS)


def load_variant(source: Source, variant: str):
    """(model, tokenizer, seconds from disk to ready, notes). LoRA is merged except for `adapter`."""
    from harness.train.lora import is_peft

    start = time.perf_counter()
    model, tokenizer = generate.load(source)
    if variant != "adapter" and is_peft(model):
        model = model.merge_and_unload()
    model, notes = TRANSFORMS[variant](model)
    model.eval()
    return model, tokenizer, time.perf_counter() - start, notes


# ----- sizes and memory -----

MB = float(1 << 20)


def state_dict_mb(model) -> float:
    """The variant's weights as torch.save writes them (int8 packed weights included; shared tensors once)."""
    import torch

    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.tell() / MB


def disk_mb(source: Source) -> float | None:
    """Weight files the source loads from disk: its directory's, plus the base's for an adapter."""
    total, found = 0, False
    for directory in filter(None, (source.weights, source.adapter_base)):
        path = Path(directory).expanduser()
        if not path.is_dir():
            return None  # a hub id: its files are somewhere in the HF cache
        for file in path.iterdir():
            if file.suffix in (".safetensors", ".bin") and file.is_file():
                total, found = total + file.stat().st_size, True
    return total / MB if found else None


class PeakMemory:
    """Peak memory while the block runs: CUDA's allocator peak on a GPU, else the process's resident set
    (sampled every 10 ms by a thread, minus what it held before): what loading and generating added."""

    def __init__(self, cuda: bool):
        self.cuda, self.peak_mb, self.kind = cuda, None, "cuda_allocated" if cuda else "cpu_rss_growth"
        self._stop = threading.Event()

    def __enter__(self):
        if self.cuda:
            import torch

            torch.cuda.reset_peak_memory_stats()
            self._base = torch.cuda.memory_allocated()
            return self
        import psutil

        self._process = psutil.Process()
        self._base = self._highest = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self._highest = max(self._highest, self._process.memory_info().rss)

    def __exit__(self, *exc) -> None:
        if self.cuda:
            import torch

            self.peak_mb = (torch.cuda.max_memory_allocated() - self._base) / MB
            return
        self._stop.set()
        self._thread.join()
        self._highest = max(self._highest, self._process.memory_info().rss)
        self.peak_mb = max(0, self._highest - self._base) / MB


# ----- energy -----

RAPL_ROOT = Path("/sys/class/powercap")
_RAPL_PACKAGE = re.compile(r"intel-rapl:\d+$")  # packages; intel-rapl:0:0 and the like are parts of them


class EnergyMeter:
    """Joules from a hardware counter: NVML on a GPU (when pynvml is installed), else Linux RAPL powercap.
    `reason` says why there is none; no figure is ever estimated without one."""

    def __init__(self, cuda: bool, rapl_root: Path = RAPL_ROOT):
        self.source, self.reason, self._read = None, None, None
        if cuda and self._try_nvml():
            return
        self._try_rapl(Path(rapl_root))

    def _try_nvml(self) -> bool:
        try:
            import pynvml
        except ImportError:
            self.reason = "pynvml is not installed (pip install nvidia-ml-py)"
            return False
        try:
            import torch

            pynvml.nvmlInit()
            handle = pynvml.nvmlDeviceGetHandleByIndex(torch.cuda.current_device())
            pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
        except Exception as exc:  # noqa: BLE001 - NVML raises its own error types; any of them means "no counter"
            self.reason = f"NVML energy counter not readable: {exc}"
            return False
        self.source = "nvml (whole GPU)"
        self._read = lambda: pynvml.nvmlDeviceGetTotalEnergyConsumption(handle) / 1000.0
        return True

    def _try_rapl(self, root: Path) -> None:
        domains = sorted(p for p in root.glob("intel-rapl:*") if _RAPL_PACKAGE.fullmatch(p.name))
        if not domains:
            reason = f"no RAPL counter in {root} (a VM, a container without it, or a CPU without RAPL)"
            self.reason = f"{self.reason}; {reason}" if self.reason else reason
            return
        try:
            ranges = [int((d / "max_energy_range_uj").read_text()) for d in domains]
            [int((d / "energy_uj").read_text()) for d in domains]
        except (OSError, ValueError) as exc:
            self.reason = f"RAPL counter not readable ({exc.__class__.__name__}: {exc}; root-only on most kernels)"
            return
        self.source = f"rapl ({len(domains)} CPU package{'s' if len(domains) > 1 else ''}, whole machine)"
        self._domains, self._ranges, self._last, self._total = domains, ranges, None, 0.0
        self._read = self._rapl_joules

    def _rapl_joules(self) -> float:
        """Counters wrap at max_energy_range_uj: add the steps since the last read, wrap-aware."""
        now = [int((d / "energy_uj").read_text()) for d in self._domains]
        if self._last is not None:
            self._total += sum((n - o) % r for n, o, r in zip(now, self._last, self._ranges)) / 1e6
        self._last = now
        return self._total

    def read(self) -> float | None:
        try:
            return self._read() if self._read else None
        except (OSError, ValueError) as exc:  # a counter that vanished mid-run: no figure rather than a wrong one
            self.source, self.reason, self._read = None, f"energy counter stopped being readable: {exc}", None
            return None


# ----- timing -----

def token_clock():
    from transformers.generation.streamers import BaseStreamer

    class TokenClock(BaseStreamer):
        """generate() calls put() with the prompt, then once per new token: a timestamp each."""

        def __init__(self):
            self.times = []

        def put(self, value):
            self.times.append(time.perf_counter())

        def end(self):
            pass

    return TokenClock()


def timed_completion(model, tokenizer, prompt: str, sampling: Sampling) -> tuple[dict, str]:
    """({ttft_ms, ms_per_token, tokens_per_s, new_tokens}, continuation) for one request."""
    clock = token_clock()
    start = time.perf_counter()
    ids, prompt_len = sampling_mod.complete(model, tokenizer, apply_template(prompt, sampling.template),
                                        sampling, streamer=clock)
    timing = request_timing(start, clock.times, time.perf_counter())
    text = tokenizer.decode(ids[prompt_len:], skip_special_tokens=True).translate(sampling_mod.LINE_SEPARATORS)
    return timing, text


def request_timing(start: float, times: list[float], end: float) -> dict:
    """One request's figures from a TokenClock's timestamps (times[0]: the prompt being pushed)."""
    stamps = times[1:]
    new = len(stamps)
    return {
        "ttft_ms": (stamps[0] - start) * 1000 if stamps else None,
        # Decoding speed: the steps after the first token (the first one carries the whole prompt).
        "ms_per_token": (stamps[-1] - stamps[0]) * 1000 / (new - 1) if new > 1 else None,
        "tokens_per_s": new / (end - start) if end > start and new else None,
        "new_tokens": new,
    }


def median_and_spread(values: list) -> tuple[float | None, float | None]:
    """Median, and the interquartile range (0 for a single value)."""
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], 0.0
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return statistics.median(values), q3 - q1


def time_requests(model, tokenizer, prompts: list[str], settings: Settings, energy: EnergyMeter) -> tuple[dict, list]:
    """Warm-up, then every prompt `repeats` times: medians, spread and energy per request."""
    for _ in range(settings.warmup):
        timed_completion(model, tokenizer, prompts[0], settings.sampling)
    samples, outputs = [], []
    joules_before = energy.read()
    for repeat in range(settings.repeats):
        for prompt in prompts:
            timing, text = timed_completion(model, tokenizer, prompt, settings.sampling)
            samples.append(timing)
            if repeat == 0:
                outputs.append({"prompt": prompt, "output": text})
    joules_after = energy.read()
    values = {}
    for key in ("ttft_ms", "ms_per_token", "tokens_per_s"):
        values[key], spread = median_and_spread([s[key] for s in samples])
        if key == "ms_per_token":
            values["ms_per_token_iqr"] = spread
    values["new_tokens"] = statistics.median(s["new_tokens"] for s in samples)
    requests = len(samples)
    measured = joules_before is not None and joules_after is not None
    values["energy_j_per_request"] = (joules_after - joules_before) / requests if measured else None
    return values, outputs


# ----- quality: the run's own evaluation blocks, or --eval-file -----

@dataclass
class EvalData:
    blocks: object | None  # a datasets.Dataset with input_ids, or None
    what: str  # what was evaluated, or why nothing was


def eval_data(source: Source, log: dict | None, settings: Settings, tokenizer, model) -> EvalData:
    if not settings.quality:
        return EvalData(None, "not measured (--no-eval)")
    if settings.eval_file:
        return _file_blocks(settings, tokenizer, model, log)
    if log is None:
        return EvalData(None, f"n/a: {source.label} has no run log to take evaluation blocks from; give --eval-file")
    return _run_blocks(log, settings, tokenizer)


def _run_blocks(log: dict, settings: Settings, tokenizer) -> EvalData:
    """The blocks the run evaluated: same files (checked by sha256), tokenizer, block size and split."""
    from harness.train.data import DataFile, check_text_file, prepare

    data = log.sections.get("data") or {}
    data_cfg = ((log.sections.get("config") or {}).get("data")) or {}
    recorded = [DataFile(**{k: f.get(k) for k in ("role", "path", "size", "sha256")})
                for f in data.get("files") or [] if isinstance(f, dict)]
    if not recorded or not data.get("eval_blocks") or not data_cfg or not data.get("block_size"):
        return EvalData(None, "n/a: the run evaluated nothing (no eval blocks in its log); give --eval-file")
    if not all(isinstance(f.path, str) and isinstance(f.sha256, str) for f in recorded):
        return EvalData(None, "n/a: the log's data section does not name its files with their sha256")
    for file in recorded:
        try:
            current = check_text_file(file.path, file.role)
        except UserError as exc:
            return EvalData(None, f"n/a: {exc}; give --eval-file")
        if current.sha256 != file.sha256:
            return EvalData(None, f"n/a: {file.role} file {file.path} changed since the run (sha256 differs)")
    if missing := [key for key in PACKING_KEYS if key not in data_cfg]:  # a log from before the setting existed
        return EvalData(None, f"n/a: the log's config has no data.{missing[0]}; give --eval-file")
    cfg = replace(DataConfig.from_record(data_cfg), block_size=data["block_size"], overwrite_cache=False,
                  preprocessing_num_workers=None)
    cache_dir = user_paths()["cache_dir"]  # the user's cache, never a directory a log names
    prepared = prepare(cfg, recorded, tokenizer, str(data.get("tokenizer")), cache_dir)
    if prepared.eval is None:
        return EvalData(None, "n/a: re-making the run's data gave no evaluation blocks; give --eval-file")
    blocks = _limit(prepared.eval, settings.max_eval_blocks)
    return EvalData(blocks, f"the run's {len(blocks)} evaluation blocks of {data['block_size']} tokens")


def _file_blocks(settings: Settings, tokenizer, model, log: dict | None) -> EvalData:
    from harness.train.data import check_text_file, prepare
    from harness.train.modeling import tokenizer_identity

    block_size = ((log or {}).get("sections", {}).get("data") or {}).get("block_size")
    if not block_size:
        config = model.config
        block_size = min(1024, getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", 1024))
    cfg = DataConfig(block_size=block_size, validation_split_percentage=0)
    file = check_text_file(settings.eval_file, "train")  # packed as prepare's one split
    try:
        prepared = prepare(cfg, [file], tokenizer, tokenizer_identity(tokenizer, "bench"), user_paths()["cache_dir"])
    except UserError as exc:
        return EvalData(None, f"n/a: --eval-file: {exc}")
    blocks = _limit(prepared.train, settings.max_eval_blocks)
    return EvalData(blocks, f"{len(blocks)} blocks of {block_size} tokens from {settings.eval_file}")


def _limit(dataset, limit: int | None):
    return dataset.select(range(min(limit, len(dataset)))) if limit else dataset


def eval_loss(model, blocks, batch_size: int) -> float:
    """Mean next-token loss over the blocks, each block weighted equally (as Trainer's eval_loss is)."""
    import torch

    device = next(model.parameters(), torch.empty(0)).device
    total, count = 0.0, 0
    with torch.inference_mode():
        for start in range(0, len(blocks), batch_size):
            ids = torch.tensor(blocks[start:start + batch_size]["input_ids"], device=device)
            loss = model(input_ids=ids, labels=ids).loss
            total, count = total + float(loss) * len(ids), count + len(ids)
    return total / count


def perplexity(loss: float | None) -> float | None:
    return None if loss is None else metrics.perplexity(loss)


# ----- one row, and all of them -----

class QualityData:
    """Evaluation blocks per source, made once for all its variants. A source without a run log (`base`, a
    model directory) borrows those of a version with the same tokenizer, so that their eval_loss compare."""

    def __init__(self, settings: Settings, logs: dict[str, dict]):
        self.settings, self.logs, self.made = settings, logs, {}

    def get(self, source: Source, tokenizer, model) -> EvalData:
        from harness.train.modeling import tokenizer_identity

        if source.label not in self.made:
            key = tokenizer_identity(tokenizer, "")
            data = eval_data(source, self.logs.get(source.label), self.settings, tokenizer, model)
            if data.blocks is None and source.label not in self.logs and self.settings.quality:
                data = self._borrow(key) or data
            self.made[source.label] = (data, key)
        return self.made[source.label][0]

    def _borrow(self, key: str) -> EvalData | None:
        for label, (data, other) in self.made.items():
            if other == key and data.blocks is not None and label in self.logs:
                return EvalData(data.blocks, f"{label}'s evaluation data (same tokenizer): {data.what}")
        return None


def measure(source: Source, variant: str, prompts: list[str], settings: Settings, quality: QualityData,
            energy: EnergyMeter, cuda: bool) -> Row:
    row = Row(source.label, variant)
    with PeakMemory(cuda and variant != "int8") as peak:  # int8 runs on the CPU, wherever it was loaded
        model, tokenizer, load_s, row.notes = load_variant(source, variant)
        timings, row.outputs = time_requests(model, tokenizer, prompts, settings, energy)
    device = next(model.parameters(), None)
    row.values = {"device": str(device.device) if device is not None else "cpu", "load_s": load_s,
                  "disk_mb": disk_mb(source), "size_mb": state_dict_mb(model), "peak_mem_mb": peak.peak_mb,
                  "peak_mem_kind": peak.kind, **timings}
    data = quality.get(source, tokenizer, model)
    if data.blocks is None and settings.quality:
        row.notes.append(f"{source.label}: eval_loss {data.what}")
    loss = eval_loss(model, data.blocks, settings.eval_batch_size) if data.blocks is not None and len(data.blocks) else None
    row.values.update(eval_loss=loss, perplexity=perplexity(loss), eval_data=data.what)
    del model
    generate._free_memory()
    return row


def add_deltas(rows: list[Row]) -> None:
    """eval_loss against the same version's fp32 row (the unquantized, merged model)."""
    reference = {r.version: r.values.get("eval_loss") for r in rows if r.variant == "fp32"}
    for row in rows:
        ref, loss = reference.get(row.version), row.values.get("eval_loss")
        row.values["eval_loss_delta"] = loss - ref if ref is not None and loss is not None else None


def plan(sources: list[Source], requested: list[str] | None, cuda: bool) -> tuple[list[tuple[Source, str]], list[str]]:
    """(the (source, variant) pairs to run, notes about the ones that cannot run here)."""
    import torch

    bf16_ok = cuda and torch.cuda.is_bf16_supported()
    pairs, notes = [], []
    for source in sources:
        for variant in variants_for(source, requested):
            reason = unsupported(variant, source, cuda, bf16_ok)
            if reason:
                notes.append(reason)
            else:
                pairs.append((source, variant))
    if not pairs:
        raise UserError("nothing to measure: " + "; ".join(notes))
    return pairs, list(dict.fromkeys(notes))


def run(sources: list[Source], requested: list[str] | None, prompts: list[str], settings: Settings,
        logs: dict[str, dict]) -> tuple[list[Row], list[str]]:
    """Every (source, variant), one model in memory at a time. `logs`: label -> read_log() of versions."""
    import torch
    from transformers.utils.logging import disable_progress_bar

    disable_progress_bar()
    cuda = torch.cuda.is_available()
    pairs, notes = plan(sources, requested, cuda)
    energy = EnergyMeter(cuda)
    # One untimed load first: the first load would otherwise also pay for importing the model's code and
    # reading its files into the page cache, and the first row would look slow for reasons of its own.
    print(f"bench: warm-up load of {pairs[0][0].label}", file=sys.stderr)
    load_variant(*pairs[0])  # the model is dropped right away
    generate._free_memory()
    quality, rows = QualityData(settings, logs), [None] * len(pairs)
    # Versions with a run log go first, so that `base` can borrow their evaluation blocks; rows keep their order.
    for index in sorted(range(len(pairs)), key=lambda i: (pairs[i][0].label not in logs, i)):
        source, variant = pairs[index]
        print(f"bench: {source.label} {variant} ({source.weights})", file=sys.stderr)
        row = measure(source, variant, prompts, settings, quality, energy, cuda)
        row.values["energy"] = energy.source or f"n/a: {energy.reason}"
        notes += row.notes
        rows[index] = row
    add_deltas(rows)
    if energy.source is None:
        notes.append(f"energy n/a: {energy.reason}")
    else:
        notes.append(f"energy from {energy.source}: other processes' use is included")
    return rows, list(dict.fromkeys(notes))


# ----- the table (harness/compare/table.py's Column/Table, rendered by formats.py) -----

def columns():
    from harness.compare.table import HIGHER, LOWER, Column

    return [
        Column("version", "version"), Column("variant", "variant"), Column("device", "device"),
        Column("load_s", "load (s)", "rate"), Column("disk_mb", "disk (MB)", "mb"),
        Column("size_mb", "size (MB)", "mb"), Column("peak_mem_mb", "peak mem (MB)", "mb"),
        Column("ttft_ms", "TTFT (ms)", "rate", LOWER), Column("ms_per_token", "ms/token", "rate", LOWER),
        Column("ms_per_token_iqr", "± (IQR)", "rate"), Column("tokens_per_s", "tokens/s", "rate", HIGHER),
        Column("eval_loss", "eval_loss", "metric", LOWER), Column("perplexity", "perplexity", "metric", LOWER),
        Column("eval_loss_delta", "Δ eval_loss vs fp32", "delta"),
        Column("energy_j_per_request", "J/request", "any"),
    ]


def table(rows: list[Row], notes: list[str]):
    from harness.compare.table import Table, best_cells

    shown = columns()
    cells = []
    for row in rows:
        cell = {"version": row.version, "variant": row.variant, **row.values}
        if cell.get("energy_j_per_request") is None:
            cell["energy_j_per_request"] = "n/a"  # why is in the notes under the table
        cells.append(cell)
    return Table(shown, cells, runs=[], best=best_cells(shown, cells), warnings=list(notes))


# ----- the log: a `bench` section appended to each version's log -----

RECORDED = ("device", "load_s", "disk_mb", "size_mb", "peak_mem_mb", "peak_mem_kind", "ttft_ms", "ms_per_token",
            "ms_per_token_iqr", "tokens_per_s", "new_tokens", "eval_loss", "perplexity", "eval_loss_delta",
            "eval_data", "energy_j_per_request", "energy")


def log_entry(row: Row, settings: Settings, prompts: list[str], measured: str) -> dict:
    entry = {"measured": measured, **{k: row.values.get(k) for k in RECORDED}}
    entry.update(prompts=len(prompts), repeats=settings.repeats, warmup=settings.warmup,
                 settings=settings.sampling.describe())
    return entry


def version_logs(sources: list[Source], logs_dir) -> dict[str, Path]:
    """label -> log path, for the sources that are versions in logs_dir: the log names these very weights
    (`base`, and a directory that merely shares a version's name, are not recorded anywhere)."""
    out, store = {}, versions.LogStore(logs_dir)
    for source in sources:
        if source.label == generate.BASE:
            continue
        path = store.path_of(source.label)
        if path is not None and _same_dir(store.log(source.label).fields.get("output_dir"), source.weights):
            out[source.label] = path
    return out


def _same_dir(a: str | None, b: str) -> bool:
    return bool(a) and Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def check_not_running(paths: dict[str, Path]) -> None:
    """Checked before measuring too, so a version in use is refused before minutes of work, not after."""
    from harness.runlog.writer import is_locked

    busy = [v for v, p in paths.items() if is_locked(p)]
    if busy:
        raise UserError(f"version {', '.join(busy)} is running (its log is held by a live process): "
                        "bench it when it has finished")


def record(rows: list[Row], paths: dict[str, Path], settings: Settings, prompts: list[str]) -> list[str]:
    """Append one `bench` section per version (its variants as keys): the log stays append-only, and a later
    bench of the same variant replaces the earlier one when read (sections update key by key)."""
    from harness.runlog.writer import RunLog, now_iso

    measured, written = now_iso(), []
    for version, path in paths.items():
        entries = {r.variant: log_entry(r, settings, prompts, measured) for r in rows if r.version == version}
        if not entries:
            continue
        log = RunLog.append(path)  # takes the run's lock: a version that is running is refused
        try:
            log.section("bench", entries)
        finally:
            log.close()
        written.append(str(path))
    return written
