"""LoRA against full fine-tuning on the same tiny model: trainable parameters, step time, peak memory.

    python bench/bench_lora_vs_full.py [--steps 30] [--rounds 3] [--batch 8] [--block 128] [--r 8]

The model is GPT-2-shaped, 4 layers, 128 dims (the default job's), built once with fixed random weights.
Each round trains it both ways with the same Trainer settings (AdamW, no evaluation, no saving), the two
modes alternating, each in a fresh process so that one mode's memory does not colour the other's:
- step time: median seconds per optimizer step, from Trainer's own train_runtime / steps;
- peak memory: on a GPU, torch.cuda.max_memory_allocated during training; on a CPU, the growth of the
  process's peak RSS across training (ru_maxrss after - before), which is what training itself added.
Medians over the rounds are printed side by side with the LoRA / full ratios.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS, DIMS, HEADS, VOCAB = 4, 128, 4, 4096


def make_base(directory: Path, block: int) -> None:
    import torch
    from transformers import AutoModelForCausalLM, GPT2Config

    torch.manual_seed(0)
    config = GPT2Config(n_layer=LAYERS, n_embd=DIMS, n_head=HEADS, n_positions=max(256, block), vocab_size=VOCAB,
                        bos_token_id=0, eos_token_id=0)
    AutoModelForCausalLM.from_config(config).save_pretrained(directory)


def worker(mode: str, base: str, steps: int, batch: int, block: int, r: int) -> dict:
    """One training run in this process; prints its figures as JSON."""
    import resource

    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments, default_data_collator

    sys.path.insert(0, str(ROOT))
    from harness.train import lora
    from harness.train.config import PeftConfig

    cuda = torch.cuda.is_available()
    model = AutoModelForCausalLM.from_pretrained(base)
    if mode == "lora":
        from peft import get_peft_model

        model = get_peft_model(model, lora.lora_config(model, PeftConfig(method="lora", r=r, alpha=4 * r,
                                                                         dropout=0.0)))
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(0, VOCAB, (steps * batch, block), generator=generator).tolist()
    data = Dataset.from_dict({"input_ids": ids, "labels": ids})
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, max_steps=steps, per_device_train_batch_size=batch,
                                 learning_rate=1e-3, save_strategy="no", eval_strategy="no", report_to="none",
                                 logging_steps=steps, disable_tqdm=True, use_cpu=not cuda,
                                 dataloader_pin_memory=cuda, seed=0)
        trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=default_data_collator)
        if cuda:
            model.to("cuda")
            torch.cuda.reset_peak_memory_stats()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = trainer.train()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else (rss_after - rss_before) / 1024
    return {"mode": mode, "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "total": sum(p.numel() for p in model.parameters()),
            "step_s": result.metrics["train_runtime"] / steps, "peak_mb": peak,
            "memory": "cuda_max_allocated" if cuda else "cpu_peak_rss_growth"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--block", type=int, default=128)
    parser.add_argument("--r", type=int, default=8)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.base, args.steps, args.batch, args.block, args.r)))
        return

    results = {"full": [], "lora": []}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        make_base(base, args.block)
        for round_number in range(args.rounds):
            order = ("full", "lora") if round_number % 2 == 0 else ("lora", "full")
            for mode in order:
                command = [sys.executable, __file__, "--worker", mode, "--base", str(base), "--steps",
                           str(args.steps), "--batch", str(args.batch), "--block", str(args.block), "--r", str(args.r)]
                env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
                done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
                results[mode].append(json.loads(done.stdout.strip().splitlines()[-1]))
    report(results, args)


def report(results: dict, args) -> None:
    full, lora_runs = results["full"], results["lora"]

    def median(runs, key):
        return statistics.median(run[key] for run in runs)

    rows = [("trainable params", full[0]["trainable"], lora_runs[0]["trainable"], "{:,.0f}"),
            ("total params", full[0]["total"], lora_runs[0]["total"], "{:,.0f}"),
            ("median step time (ms)", median(full, "step_s") * 1000, median(lora_runs, "step_s") * 1000, "{:.1f}"),
            (f"median peak memory (MB, {full[0]['memory']})", median(full, "peak_mb"), median(lora_runs, "peak_mb"),
             "{:.1f}")]
    print(f"GPT-2 {LAYERS} layers x {DIMS} dims, batch {args.batch} x block {args.block}, {args.steps} steps, "
          f"LoRA r={args.r} on c_attn, {args.rounds} rounds each, alternating")
    print(f"{'':45} {'full':>14} {'LoRA':>14} {'LoRA/full':>10}")
    for name, a, b, fmt in rows:
        ratio = f"{b / a:.3f}" if a else "-"
        print(f"{name:45} {fmt.format(a):>14} {fmt.format(b):>14} {ratio:>10}")


if __name__ == "__main__":
    main()
