"""What a metric key is: a quality metric, a cost, a count, or a diagnostic. The one list every command uses.

- quality: what a run is judged by (`eval_loss`, `eval_f1`, `eval_wer`, ...): compared, ranked ("best").
- cost: wall clock, throughput, FLOPs, memory. Never reproduces exactly; not compared between records.
- count: sizes and positions (`eval_samples`, `num_tokens`, `*_total`, `epoch`, `step`). Kept and shown on
  request, never ranked.
- diagnostic: thresholds, gradient norms, the learning rate at a step, a best-epoch marker. Kept, never
  ranked.
"""

from __future__ import annotations

import re

QUALITY, COST, COUNT, DIAGNOSTIC = "quality", "cost", "count", "diagnostic"
LOWER, HIGHER = "lower", "higher"

_COST = re.compile(r"_runtime$|_per_second$|^total_flos$|_flos$|_mem_|_memory|_time$|_seconds$")
_COUNT = re.compile(
    r"_samples$|^num_|_num_|_tokens$|_total$|_count$|^epoch$|^step$|_steps$|^global_step$|_epoch$|_step$"
    r"|(?:^|_)gen_len$|_len$|_size$"
)
_DIAGNOSTIC = re.compile(r"_thresh(?:old)?$|grad_norm$|^learning_rate$|(?:^|_)lr$|^best_|_best$|_entropy$"
                         r"|(?:^|_|/)log(?:p|prob|it)s(?:/|$)")  # TRL's logps/chosen, eval_logits/rejected
_LOWER = re.compile(r"loss|perplexity|(?:^|_)(?:error|wer|cer|ter|mse|mae|rmse|ppl)$")


def kind(key: str) -> str:
    if _COST.search(key):
        return COST
    if _COUNT.search(key):
        return COUNT
    if _DIAGNOSTIC.search(key):
        return DIAGNOSTIC
    return QUALITY


def is_quality(key: str) -> bool:
    return kind(key) == QUALITY


def is_cost(key: str) -> bool:
    """Wall-clock figures and the like: two records of one run, or a re-run, may differ in these."""
    return kind(key) == COST


def direction(key: str) -> str | None:
    """LOWER / HIGHER for quality metrics (which one is best), None for everything else."""
    if not is_quality(key):
        return None
    return LOWER if _LOWER.search(key) else HIGHER
