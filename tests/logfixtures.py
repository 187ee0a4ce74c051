"""Writers for fixture logs in every input shape the table reads (the tests write their own inputs).

Run logs follow docs/LOG_FORMAT.md line for line; Trainer stdout copies what transformers 4.x and 5.x
print (tqdm bars included); the notebook is the hand-kept kind, with prose, pasted commands and output.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

MAGIC = "#### run_clm.py log (format 1) ####"


def runlog(
    version="3.5",
    parent="3.4",
    status="finished",
    lr="1.0e-06",
    epochs=3.0,
    eval_loss=5.432100296020508,
    eval_accuracy=0.2345000058412552,
    train_loss=6.123456001281738,
    train_sha="9f86d0aa",
    eval_sha="2c26b4bb",
    eval_path="/home/me/Val.txt",
    losses=(8.1234567, 7.5, 7.1),
    cumulative=6.0,
    ended=True,
    note="lr down: does a long tail help?",
    extra_eval=None,
) -> str:
    """The LOG_FORMAT.md example, with knobs."""
    lines = [
        MAGIC,
        f"version: {version}",
    ]
    if parent:
        lines.append(f"parent: {parent}")
    lines += [
        "started: 2026-11-24T20:41:07+00:00",
        "status: running",
        f"note: {note}",
        f"command: python run_clm.py version={version}" + (f" init_from={parent}" if parent else "")
        + f" train.learning_rate={lr}",
        f"output_dir: outputs/{version}",
        "seed: 42",
        "----- config -----",
        "  version: '" + version + "'",
        "  init_from: " + (f"'{parent}'" if parent else "null"),
        "  model:",
        f"    name_or_path: {'outputs/' + parent if parent else 'gpt2'}",
        "  data:",
        "    train_file: /home/me/TestData.txt",
        f"    validation_file: {eval_path}",
        "    block_size: 128",
        "  train:",
        f"    learning_rate: {lr}",
        f"    num_train_epochs: {epochs}",
        "    per_device_train_batch_size: 8",
        "    gradient_accumulation_steps: 4",
        "    fp16: false",
        "    seed: 42",
        "----- environment -----",
        "  python: 3.11.7",
        "  torch: 2.13.0+cpu",
        "  transformers: 5.24.0",
        "  device: cpu",
        "  device_name: x86_64 (2 cores)",
        "  precision: fp32",
        "  world_size: 1",
        "  git_commit: 1a2b3c4",
        "  git_dirty: true",
        "----- data -----",
        "  files:",
        "  - role: train",
        "    path: /home/me/TestData.txt",
        "    size: 460123",
        f"    sha256: {train_sha}",
        "  - role: validation",
        f"    path: {eval_path}",
        "    size: 12345",
        f"    sha256: {eval_sha}",
        "  tokenizer: gpt2@sha256:4e07",
        "  block_size: 128",
        "  train_blocks: 940",
        "  eval_blocks: 50",
        "----- model -----",
        "  trainable_params: 124439808",
        "  total_params: 124439808",
        f"  init_from: {parent or 'null'}",
        "----- training -----",
    ]
    for i, loss in enumerate(losses):
        lines.append(f"{{'loss': {loss!r}, 'grad_norm': 1.5, 'learning_rate': 5e-05, 'epoch': {0.1 * (i + 1):.1f}, "
                     f"'step': {10 * (i + 1)}}}")
    lines.append("{'eval_loss': 6.91, 'eval_accuracy': 0.12, 'eval_runtime': 1.2, 'epoch': 1.0, 'step': 118}")
    if status == "running":
        return "\n".join(lines) + "\n"
    lines += [
        "***** train metrics *****",
        f"  epoch                    = {epochs:>18}",
        "  total_flos               =               12GF",
        f"  train_loss               = {train_loss!r:>18}",
        "  train_runtime            =         0:00:31.12",
        "  train_samples            =                940",
        "  train_samples_per_second =             90.123",
        "  train_steps_per_second   =              3.789",
        "***** eval metrics *****",
        f"  epoch                   = {epochs:>18}",
        f"  eval_accuracy           = {eval_accuracy!r:>18}",
        f"  eval_loss               = {eval_loss!r:>18}",
        "  eval_runtime            =         0:00:01.23",
        "  eval_samples            =                 50",
    ]
    for key, value in (extra_eval or {}).items():
        lines.append(f"  {key:<23} = {value!r:>18}")
    lines += [
        "----- samples -----",
        "  - prompt: 'Hey, how are you?'",
        "    output: '...'",
        "----- summary -----",
        "  peak_memory_mb: 812.3",
        "  peak_memory_kind: cpu_rss",
    ]
    if cumulative is not None:
        lines.append(f"  cumulative_epochs: {cumulative}")
    lines.append(f"  weights: outputs/{version}")
    if status == "crashed":
        lines.append("error: RuntimeError: CUDA out of memory")
    if ended:
        lines.append("ended: 2026-11-24T20:42:00+00:00")
    lines.append(f"status: {status}")
    return "\n".join(lines) + "\n"


HF4_STDOUT = """\
[INFO|trainer.py:2314] 2024-03-01 12:00:00,000 >> ***** Running training *****
[INFO|trainer.py:2315] 2024-03-01 12:00:00,000 >>   Num examples = 940
[INFO|trainer.py:2316] 2024-03-01 12:00:00,000 >>   Num Epochs = 3
[INFO|trainer.py:2317] 2024-03-01 12:00:00,000 >>   Instantaneous batch size per device = 8
[INFO|trainer.py:2320] 2024-03-01 12:00:00,000 >>   Total train batch size (w. parallel, distributed & accumulation) = 32
[INFO|trainer.py:2321] 2024-03-01 12:00:00,000 >>   Gradient Accumulation steps = 4
  0%|          | 0/354 [00:00<?, ?it/s]\r  1%|          | 2/354 [00:01<03:30,  1.67it/s]\r  3%|▎         | 10/354 [00:06<03:20,  1.71it/s]{'loss': 2.5111, 'grad_norm': 1.13, 'learning_rate': 8.77e-05, 'epoch': 0.37}
  3%|▎         | 10/354 [00:06<03:20,  1.71it/s]\r  6%|▌         | 20/354 [00:12<03:14,  1.72it/s]{'loss': 2.3111, 'grad_norm': 1.01, 'learning_rate': 7.77e-05, 'epoch': 0.74}
{'eval_loss': 2.2, 'eval_accuracy': 0.61, 'eval_runtime': 3.1, 'eval_samples_per_second': 16.1, 'epoch': 1.0}
{'train_runtime': 201.7712, 'train_samples_per_second': 13.97, 'train_steps_per_second': 1.754, 'train_loss': 2.3456, 'epoch': 3.0}
100%|██████████| 354/354 [03:21<00:00,  1.75it/s]
***** train metrics *****
  epoch                    =        3.0
  total_flos               =     1084GF
  train_loss               =     2.3456
  train_mem_cpu_peaked_delta =      512MB
  train_runtime            = 0:03:21.77
  train_samples            =        940
  train_samples_per_second =      13.97
  train_steps_per_second   =      1.754
***** eval metrics *****
  epoch                   =        3.0
  eval_accuracy           =     0.6123
  eval_loss               =     2.1234
  eval_runtime            = 0:00:03.10
  eval_samples            =         50
  eval_samples_per_second =     16.129
  perplexity              =     8.3594
"""

HF5_STDOUT = """\
{'loss': '7.403', 'grad_norm': '1.597', 'learning_rate': '0.0004083', 'epoch': '0.1176'}
 12%|█▏        | 20/170 [00:10<01:15,  1.99it/s]{'loss': '6.912', 'grad_norm': '1.2', 'learning_rate': '0.0003', 'epoch': '0.2353'}
{'eval_loss': '6.5', 'eval_runtime': '1.1', 'epoch': '1'}
***** train metrics *****
  epoch                    =        2.0
  total_flos               =       12GF
  train_loss               =     6.7123
  train_runtime            = 0:01:25.00
  train_samples_per_second =     22.118
"""


# A six-plus version notebook with chained fine-tunes, prose in several languages, Hydra and argparse
# commands, pasted metrics blocks and periodic dicts, a crashed attempt, and a banner without metrics.
NOTEBOOK = """\
Experiment notebook — fine-tuning GPT-2 on TestData.txt
Notes en français et en español, à la main.

##########################################################
######## Version 2.1 ########
Premier essai, modèle de base.
python run_clm.py --model_name_or_path gpt2 --train_file TestData.txt --validation_file Val.txt \\
    --learning_rate 5e-5 --num_train_epochs 3 --per_device_train_batch_size 8 --output_dir finetuned_model_v2.1
{'loss': 4.1, 'grad_norm': 2.0, 'learning_rate': 4e-05, 'epoch': 1.0}
***** train metrics *****
  epoch                    =        3.0
  train_loss               =     3.9000
  train_runtime            = 0:05:00.00
  train_samples_per_second =      9.400
***** eval metrics *****
  epoch                   =        3.0
  eval_accuracy           =     0.3000
  eval_loss               =     3.5000
  perplexity              =    33.1155
La pérdida baja bien.

##########################################################
######## Version 2.2 ########
Continuing from 2.1 with a lower learning rate.
python run_clm.py --model_name_or_path "finetuned_model_v2.1" --train_file TestData.txt --validation_file Val.txt --learning_rate 3e-5 --num_train_epochs 2 --per_device_train_batch_size 8 --gradient_accumulation_steps 2 --fp16
***** train metrics *****
  epoch                    =        2.0
  train_loss               =     3.4000
***** eval metrics *****
  eval_accuracy           =     0.3500
  eval_loss               =     3.2000
Better: ppl went down.

##########################################################
######## Version 2.3 ########
Oops: evaluated on the training file itself.
python run_clm.py --model_name_or_path finetuned_model_v2.2 --train_file TestData.txt --validation_file TestData.txt --learning_rate 3e-5 --num_train_epochs 1
  3%|▎         | 10/354 [00:06<03:20,  1.71it/s]{'loss': 2.0, 'grad_norm': 1.1, 'learning_rate': 2e-05, 'epoch': 0.5}
{'eval_loss': 1.1, 'eval_accuracy': 0.8, 'epoch': 1.0}
{'train_runtime': 100.0, 'train_samples_per_second': 9.4, 'train_steps_per_second': 1.0, 'train_loss': 1.9, 'epoch': 1.0}

##########################################################
######## Version 2.4 ########
Classifier head experiment (sentiment). It collapsed: predicts one class.
python run_clm.py --model_name_or_path finetuned_model_v2.2 --learning_rate 1e-3 --num_train_epochs 1 --per_device_train_batch_size 16
***** eval metrics *****
  eval_accuracy           =     0.5000
  eval_f1                 =     0.0000
  eval_loss               =     0.6931
  eval_precision          =     0.0000
  eval_recall             =     0.0000
{'loss': 0.6931, 'epoch': 0.25}
{'loss': 0.6931, 'epoch': 0.5}
{'loss': 0.6931, 'epoch': 0.75}
{'loss': 0.6931, 'epoch': 1.0}

##########################################################
######## Version 2.5 ########
Hydra-style launch this time, from 2.2.
python run_clm.py train.learning_rate=1e-4 train.num_train_epochs=2 init_from=2.2
***** train metrics *****
  epoch                    =        2.0
  train_loss               =     3.1000
***** eval metrics *****
  eval_loss               =     3.0000
Traceback (most recent call last):
  File "run_clm.py", line 10, in <module>
RuntimeError: something after eval

##########################################################
######## Version 2.6 ########
Long run from 2.5. Überraschung: it did well.
python run_clm.py --model_name_or_path finetuned_model_v2.5 --learning_rate 2e-5 --num_train_epochs 4 --per_device_train_batch_size 4
***** train metrics *****
  epoch                    =        4.0
  train_loss               =     2.8000
  train_runtime            = 0:10:00.50
***** eval metrics *****
  eval_accuracy           =     0.4200
  eval_loss               =     2.7000

##########################################################
######## Version 2.7 ########
From 2.6 with lr 3e-5, two epochs.
python run_clm.py --model_name_or_path "finetuned_model_v2.6" --learning_rate 3e-5 --num_train_epochs 2 --per_device_train_batch_size 4
***** eval metrics *****
  eval_accuracy           =     0.4100
  eval_loss               =     2.7500
Slightly worse than 2.6; keep 2.6.

##########################################################
######## Version 2.10 ########
Just an idea, not run yet.
"""


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def trainer_dir(directory: Path, eval_loss=2.5, with_state=True, checkpoint=None) -> Path:
    """An output directory as Trainer leaves it (JSON numbers raw: FLOPs, bytes)."""
    target = directory / checkpoint if checkpoint else directory
    target.mkdir(parents=True, exist_ok=True)
    results = {"epoch": 2.0, "eval_loss": eval_loss, "eval_accuracy": 0.5, "eval_runtime": 1.5,
               "perplexity": 12.18, "total_flos": 3 * 2**30, "train_loss": 2.9, "train_runtime": 42.5,
               "train_samples_per_second": 20.0, "train_mem_cpu_peaked_delta": 512 * 2**20}
    if not checkpoint:
        (target / "all_results.json").write_text(json.dumps(results))
        (target / "eval_results.json").write_text(json.dumps({k: v for k, v in results.items()
                                                             if k.startswith("eval") or k in ("epoch", "perplexity")}))
    if with_state:
        state = {"epoch": 2.0, "global_step": 100, "num_train_epochs": 2, "train_batch_size": 8,
                 "log_history": [
                     {"loss": 3.2, "grad_norm": 1.0, "learning_rate": 5e-05, "epoch": 1.0, "step": 50},
                     {"eval_loss": eval_loss, "eval_accuracy": 0.5, "epoch": 2.0, "step": 100},
                     {"train_runtime": 42.5, "train_loss": 2.9, "epoch": 2.0, "step": 100, "total_flos": 3 * 2**30},
                 ]}
        (target / "trainer_state.json").write_text(json.dumps(state))
    return target


def set_old(path: Path, minutes: float) -> None:
    """Make a file look last written `minutes` ago."""
    import time

    when = time.time() - minutes * 60
    os.utime(path, (when, when))
