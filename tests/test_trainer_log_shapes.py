"""Trainer stdout as real runs leave it: TRL preference dicts, Windows hub-cache paths."""

import logfixtures as F

from harness.compare.load import load_runs

_DPO_LOG = """\
[INFO|trainer.py:2519] 2025-01-02 10:00:00,000 >> ***** Running training *****
[INFO|trainer.py:2520] 2025-01-02 10:00:00,000 >>   Num Epochs = 1
[INFO|trainer.py:2522] 2025-01-02 10:00:00,000 >>   Instantaneous batch size per device = 2
[INFO|trainer.py:2526] 2025-01-02 10:00:00,000 >>   Gradient Accumulation steps = 4
{'loss': 0.6931, 'grad_norm': 3.5, 'learning_rate': 5e-07, 'rewards/chosen': 0.0, 'rewards/rejected': 0.0, \
'rewards/accuracies': 0.0, 'rewards/margins': 0.0, 'logps/chosen': -80.5, 'logits/rejected': nan, 'epoch': 0.5}
 50%|█████     | 5/10 [00:10<00:10,  2.0s/it]{'loss': 0.41, 'grad_norm': 2.5, 'learning_rate': 2e-07, \
'rewards/chosen': 0.3, 'rewards/rejected': -0.4, 'rewards/accuracies': 0.75, 'rewards/margins': 0.7, 'epoch': 1.0}
[INFO|configuration_utils.py:765] 2025-01-02 10:01:00,000 >> loading configuration file config.json from cache \
at C:\\Users\\me\\.cache\\huggingface\\hub\\models--SomeOrg--Tiny-Chat-1B\\snapshots\\0123abcd\\config.json
{'train_runtime': 20.5, 'train_samples_per_second': 4.0, 'train_steps_per_second': 0.5, 'train_loss': 0.55, 'epoch': 1.0}
***** eval metrics *****
  epoch                   =        1.0
  eval_loss               =     0.3912
  eval_rewards/accuracies =       0.81
  eval_rewards/margins    =     0.9876
"""


def test_a_preference_run_on_windows(tmp_path):
    path = F.write(tmp_path / "dpo.log", _DPO_LOG)
    (run,), warnings = load_runs([str(path)])
    assert warnings == []
    assert run.hyperparameters["model"] == "SomeOrg/Tiny-Chat-1B"  # the hub cache path, with backslashes
    assert (run.train_metrics["train_loss"], run.eval_metrics["eval_loss"], run.epochs) == (0.55, 0.3912, 1.0)
    assert (run.eval_metrics["eval_rewards/accuracies"], run.eval_metrics["eval_rewards/margins"]) == (0.81, 0.9876)
    assert [h["rewards/margins"] for h in run.history if "rewards/margins" in h] == [0.0, 0.7]
