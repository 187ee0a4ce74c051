"""Texts in the shapes people keep their results in, written for these tests (not copied from anywhere):
hand-kept reports, model cards, pasted notebook tables, Trainer INFO dumps, Colab notebooks, and the files
other trainers write."""

import json

REPORT_MD = """\
# Summarisation experiments

Shared notes: every run on SAMSum, three seeds averaged.

## MBart (5e-5)

training_args = Seq2SeqTrainingArguments(
    output_dir="mbart-samsum",
    learning_rate=5e-5,
    per_device_train_batch_size=8,
    num_train_epochs=3,
    fp16=True,
)

eval_rouge1 = 46.6
eval_rouge2 = 22.1
"eval_loss": 3.49,

Rouge is good, loss could be lower.

## T5-base (3e-4)

    python train.py --model_name_or_path t5-base --learning_rate 3e-4 --num_train_epochs 5

### Results
- Exactitude (Accuracy): 0.8949
- F1-Score: 0.8904
- Précision: 88.0%
- Rappel: 0.90
- Loss: 2.95
"""

RUN_LINES = """\
Run 1: baseline
{'eval_loss': 0.52, 'eval_accuracy': 0.81, 'epoch': 2.0}
Run 2: lr=1e-5
{'eval_loss': 0.48, 'eval_accuracy': 0.84, 'epoch': 2.0}
"""

INLINE_PAIRS = """\
# Experiment log

Add a section per experiment.

### baseline
- **config**: 2 layers, dropout=0.2, lr=0.001, batch size=16, epochs=100
- **results**: accuracy=0.8667, f1=0.8611

### deeper net
- **config**: 4 layers, dropout=0.2, lr=0.0005, batch size=32, epochs=100
- **results**: accuracy=0.8812, f1=0.8790
Test Loss: 0.3391, Test Accuracy: 0.8700
"""

MODEL_CARD = """\
---
license: apache-2.0
tags:
- generated_from_trainer
---

# bert-imdb

This model is a fine-tuned version of [bert-base-cased](https://huggingface.co/bert-base-cased) on imdb.
It achieves the following results on the evaluation set:
- Loss: 0.3012
- Accuracy: 0.9112
- F1: 0.9108

## Training procedure

### Training hyperparameters

The following hyperparameters were used during training:
- learning_rate: 3e-05
- train_batch_size: 16
- eval_batch_size: 16
- seed: 42
- gradient_accumulation_steps: 2
- total_train_batch_size: 32
- num_epochs: 2
- mixed_precision_training: Native AMP

### Training results

| Training Loss | Epoch | Step | Validation Loss | Accuracy | F1     |
|:-------------:|:-----:|:----:|:---------------:|:--------:|:------:|
| No log        | 1.0   | 391  | 0.3190          | 0.9001   | 0.8990 |
| 0.2511        | 2.0   | 782  | 0.3012          | 0.9112   | 0.9108 |

### Framework versions

- Transformers 4.30.2
"""

PASTED_TAB = "Epoch\tTraining Loss\tValidation Loss\tAccuracy\n1\tNo log\t0.402000\t0.830000\n2\t0.350100\t0.370000\t0.860000\n"
PASTED_SPACES = ("Step    Training Loss    Validation Loss    F1\n500     0.610000         0.550000           0.710000\n"
                 "1000    0.420000         0.500000           0.750000\n")
PASTED_SINGLE = "Epoch Training Loss Validation Loss Accuracy\n1 No log 0.402000 0.830000\n2 0.350100 0.370000 0.860000\n"

INFO_DUMP = """\
11/25/2026 10:00:00 - WARNING - __main__ - Process rank: 0, device: cuda:0, n_gpu: 1, 16-bits training: True
11/25/2026 10:00:00 - INFO - __main__ - Training/evaluation parameters TrainingArguments(
_n_gpu=1,
bf16=False,
fp16=True,
learning_rate=5e-05,
lr_scheduler_type=SchedulerType.LINEAR,
num_train_epochs=3.0,
output_dir=/tmp/test-clm,
per_device_train_batch_size=8,
report_to=['tensorboard'],
)
[INFO|configuration_utils.py:731] 2026-11-25 10:00:01,000 >> loading configuration file config.json from cache at \
/root/.cache/huggingface/hub/models--openai-community--gpt2/snapshots/abc/config.json
[INFO|configuration_utils.py:800] 2026-11-25 10:00:01,000 >> Model config GPT2Config {
  "_name_or_path": "openai-community/gpt2",
  "activation_function": "gelu_new",
  "n_layer": 12
}
[INFO|trainer.py:2314] 2026-11-25 10:00:02,000 >> ***** Running training *****
[INFO|trainer.py:2315] 2026-11-25 10:00:02,000 >>   Num examples = 2318
***** train metrics *****
  epoch                    =        3.0
  train_loss               =     3.2001
***** eval metrics *****
  epoch                   =        3.0
  eval_loss               =     3.1002
  eval_samples            =        240
  perplexity              =    22.2045
   JobId=4242 JobName=clm
   UserId=me(1000) GroupId=me(1000) MCS_label=N/A
   RunTime=00:10:00 TimeLimit=01:00:00 TimeMin=N/A
"""

PRETTY_DICT = """\
{'eval_loss': 0.41,
 'eval_f1': array([0.62, 0.88]),
 'eval_accuracy': tensor(0.8125, device='cuda:0'),
 'eval_mcc': np.float64(0.55),
 'eval_samples': 500,
 'epoch': 2.0}
"""

CRASHED = """\
training_args = TrainingArguments(output_dir="out", num_train_epochs=3, learning_rate=1e-4)
Map: 100%|██████████| 25000/25000 [00:03<00:00, 7000.00 examples/s]
  3%|▎         | 9/352 [00:05<03:20,  1.71it/s]
100%|██████████| 7/7 [00:01<00:00,  5.10it/s]
Traceback (most recent call last):
  File "train.py", line 80, in <module>
    trainer.train()
torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB
"""

_PROGRESS_HTML = """<div>
      <progress value='500' max='500' style='width:300px; height:20px; vertical-align: middle;'></progress>
      [500/500 04:02, Epoch 2/2]
    </div>
    <table border="1" class="dataframe">
  <thead>
 <tr style="text-align: left;">
      <th>Epoch</th>
      <th>Training Loss</th>
      <th>Validation Loss</th>
      <th>Accuracy</th>
    </tr>
  </thead>
  <tbody>
    <tr>
      <td>1</td>
      <td>No log</td>
      <td>0.331200</td>
      <td>0.871000</td>
    </tr>
    <tr>
      <td>2</td>
      <td>0.284400</td>
      <td>0.298800</td>
      <td>0.893000</td>
    </tr>
  </tbody>
</table><p>"""


def colab_notebook() -> str:
    """A Colab notebook with one Trainer run: code, the progress table, TrainOutput, an evaluate() dict."""
    def code(source, *outputs):
        return {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": source, "outputs": list(outputs)}

    def result(text):
        return {"output_type": "execute_result", "execution_count": 1, "metadata": {}, "data": {"text/plain": text}}

    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# DistilBERT on IMDB\n", "Tried *2e-5* first."]},
        code(['model_checkpoint = "distilbert-base-uncased"\n', "batch_size = 16\n",
              "args = TrainingArguments(\n", '    "imdb-out",\n', "    learning_rate=2e-5,\n",
              "    per_device_train_batch_size=batch_size,\n", "    num_train_epochs=2,\n", "    bf16=True,\n", ")"]),
        code(["trainer.train()"],
             {"output_type": "display_data", "metadata": {},
              "data": {"text/html": [_PROGRESS_HTML], "text/plain": ["<IPython.core.display.HTML object>"]}},
             result(["TrainOutput(global_step=500, training_loss=0.2844, metrics={'train_runtime': 242.1, "
                     "'train_samples_per_second': 33.0, 'train_steps_per_second': 2.06, 'total_flos': 1.0e15, "
                     "'train_loss': 0.2844, 'epoch': 2.0})"])),
        code(["trainer.evaluate()"],
             result(["{'eval_loss': 0.2988,\n", " 'eval_accuracy': 0.893,\n", " 'eval_runtime': 9.8,\n",
                     " 'epoch': 2.0}"])),
        code(["trainer.push_to_hub()"], {"output_type": "error", "ename": "OSError", "evalue": "no token",
                                         "traceback": ["\u001b[0;31mOSError\u001b[0m"]}),
    ]
    return json.dumps({"nbformat": 4, "nbformat_minor": 0, "metadata": {"colab": {}}, "cells": cells}, indent=1)


LLAMAFACTORY_JSONL = "\n".join(json.dumps(e) for e in [
    {"current_steps": 5, "total_steps": 30, "loss": 2.1, "lr": 4.9e-05, "epoch": 0.5, "percentage": 16.67,
     "elapsed_time": "0:00:10", "remaining_time": "0:00:50"},
    {"current_steps": 10, "total_steps": 30, "eval_loss": 1.9, "epoch": 1.0, "percentage": 33.33,
     "elapsed_time": "0:00:20", "remaining_time": "0:00:40"},
]) + "\n"

LIGHTNING_CSV = "epoch,step,train_loss,val_loss,val_acc\n0,49,0.9,,\n0,99,,0.7,0.61\n1,149,0.5,,\n1,199,,0.55,0.72\n"
