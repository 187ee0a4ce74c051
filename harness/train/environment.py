"""What the run really ran on: library versions, device, precision, git state, peak memory."""

import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path

LOSS_DENOMINATOR = "predicted_tokens"
PACKAGES = ("torch", "transformers", "datasets", "tokenizers", "accelerate", "peft")


def resolve_precision(train_cfg: dict) -> tuple[str, list[str]]:
    """Mixed precision this machine can really do; fp16 without CUDA falls back to fp32 with a warning.

    Mutates train_cfg so TrainingArguments receives what will really be used."""
    import torch

    warnings = []
    cuda = torch.cuda.is_available()
    if train_cfg.get("fp16") and not cuda:
        warnings.append("fp16 needs a CUDA GPU and this machine has none: training in fp32 instead")
        train_cfg["fp16"] = False
    if train_cfg.get("bf16") and cuda and not torch.cuda.is_bf16_supported():
        warnings.append("bf16 is not supported by this GPU: training in fp32 instead")
        train_cfg["bf16"] = False
    if train_cfg.get("fp16"):
        return "fp16 mixed (fp32 weights)", warnings
    if train_cfg.get("bf16"):
        return "bf16 mixed (fp32 weights)", warnings
    return "fp32", warnings


def describe(precision: str, world_size: int = 1) -> dict:
    import torch

    info = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            info[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            info[name] = None
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(device="cuda", device_name=props.name, device_memory_mb=props.total_memory >> 20)
    else:
        info.update(device="cpu", device_name=f"{platform.machine()} ({os.cpu_count()} cores)",
                    device_memory_mb=_total_ram_mb())
    info.update(precision=precision, world_size=world_size, platform=platform.platform(), **git_state())
    # loss = sum over predicted tokens / their number (loss_type ForCausalLM), what transformers 4.x reported;
    # HF's run_clm.py under 5.x divides by all tokens, (block-1)/block of this. The table's reviewer reads it.
    info["loss_denominator"] = LOSS_DENOMINATOR
    return info


def _total_ram_mb():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") >> 20
    except (ValueError, OSError, AttributeError):
        return None


def git_state(directory=None) -> dict:
    """The project's commit and whether its tracked files differ from it."""
    cwd = directory or Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=cwd, capture_output=True,
                                text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return {"git_commit": None, "git_dirty": None}
    if commit.returncode != 0:
        return {"git_commit": None, "git_dirty": None}
    return {"git_commit": commit.stdout.strip(), "git_dirty": bool(dirty.stdout.strip())}


def reset_peak_memory() -> None:
    """Start the CUDA peak counters at training: loading and data preparation are not the training peak.

    The CPU figure (peak RSS) cannot be reset and covers the whole process."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def _peak_rss_mb() -> float:
    try:
        import resource
    except ImportError:  # Windows: psutil's peak working set
        import psutil

        return psutil.Process().memory_info().peak_wset / 2**20
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss_kb / 1024 if sys.platform != "darwin" else rss_kb / (1024 * 1024)


def peak_memory() -> dict:
    """CUDA peak allocated/reserved on a GPU; the process's peak resident set size otherwise."""
    import torch

    rss_mb = _peak_rss_mb()
    if torch.cuda.is_available():
        return {"peak_memory_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1),
                "peak_memory_kind": "cuda_allocated",
                "cuda_peak_reserved_mb": round(torch.cuda.max_memory_reserved() / 2**20, 1),
                "peak_rss_mb": round(rss_mb, 1)}
    return {"peak_memory_mb": round(rss_mb, 1), "peak_memory_kind": "cpu_rss"}
