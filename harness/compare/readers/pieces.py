"""Line-sized pieces of free text that carry numbers: pure functions, no I/O, never raise.

What people paste next to (or instead of) Trainer's own output: header-less metric lines, bullet lists in any
language (`- Exactitude (Accuracy): 0.8949`), progress tables (Trainer's notebook table, a model card's
`Training results`), dicts with values Python cannot read back (`array([...])`, `tensor(0.5)`), the keyword
arguments of `TrainingArguments(...)` (code or repr), and the line shapes that are log chatter, not notes.
"""

from __future__ import annotations

import re
from typing import Any

from harness.runlog.trainer_text import parse_dict_literal, to_number

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|nan|inf"
_SPLIT_PREFIXES = ("eval_", "train_", "test_", "predict_", "validation_", "val_")

# ---- labels people write -> Trainer's metric names ----

# A label (lower-cased, accents and punctuation kept) -> the metric name Trainer would use without `eval_`.
_METRIC_WORDS = {
    "accuracy": "accuracy", "acc": "accuracy", "exactitude": "accuracy", "exactitud": "accuracy",
    "précision globale": "accuracy", "genauigkeit": "accuracy", "acurácia": "accuracy", "accuratezza": "accuracy",
    "f1": "f1", "f1-score": "f1", "f1 score": "f1", "f1_score": "f1", "f-score": "f1", "f-measure": "f1",
    "f1 macro": "f1_macro", "macro f1": "f1_macro", "f1 micro": "f1_micro", "micro f1": "f1_micro",
    "f1 weighted": "f1_weighted", "weighted f1": "f1_weighted",
    "precision": "precision", "précision": "precision", "precisión": "precision", "präzision": "precision",
    "precisão": "precision", "recall": "recall", "rappel": "recall", "exhaustividad": "recall",
    "sensibilidad": "recall", "revocação": "recall", "sensitivity": "recall",
    "loss": "loss", "eval loss": "loss", "validation loss": "loss", "val loss": "loss", "perte": "loss",
    "pérdida": "loss", "verlust": "loss", "evaluation loss": "loss",
    "training loss": "train_loss", "train loss": "train_loss",
    "perplexity": "perplexity", "ppl": "perplexity", "perplexité": "perplexity",
    "bleu": "bleu", "sacrebleu": "bleu", "chrf": "chrf", "meteor": "meteor", "bertscore": "bertscore",
    "rouge1": "rouge1", "rouge-1": "rouge1", "rouge2": "rouge2", "rouge-2": "rouge2", "rougel": "rougeL",
    "rouge-l": "rougeL", "rougelsum": "rougeLsum", "rouge-lsum": "rougeLsum",
    "wer": "wer", "cer": "cer", "mcc": "matthews_correlation", "matthews correlation": "matthews_correlation",
    "matthews_correlation": "matthews_correlation", "auc": "auc", "roc auc": "roc_auc", "roc-auc": "roc_auc",
    "exact match": "exact_match", "exact_match": "exact_match", "em": "exact_match",
    "pearson": "pearson", "spearmanr": "spearmanr", "spearman": "spearmanr", "gen len": "gen_len",
}
# Hyper-parameter labels of model cards and reports -> canonical names (harness/compare/cmdline.py).
_HYPER_WORDS = {
    "learning_rate": "learning_rate", "learning rate": "learning_rate", "lr": "learning_rate",
    "train_batch_size": "per_device_train_batch_size", "batch_size": "per_device_train_batch_size",
    "batch size": "per_device_train_batch_size", "per_device_train_batch_size": "per_device_train_batch_size",
    "num_epochs": "num_train_epochs", "num_train_epochs": "num_train_epochs", "epochs": "num_train_epochs",
    "gradient_accumulation_steps": "gradient_accumulation_steps",
    "total_train_batch_size": "total_train_batch_size", "seed": "seed", "training_steps": "max_steps",
    "max_steps": "max_steps", "weight_decay": "weight_decay", "warmup_steps": "warmup_steps",
    "lr_scheduler_type": "lr_scheduler_type", "mixed_precision_training": "precision",
    "epoch": "num_train_epochs", "num epochs": "num_train_epochs", "batch": "per_device_train_batch_size",
    "bs": "per_device_train_batch_size", "batch size per device": "per_device_train_batch_size",
    "# epochs": "num_train_epochs", "n epochs": "num_train_epochs", "weight decay": "weight_decay",
    "warmup steps": "warmup_steps", "max steps": "max_steps", "grad accum": "gradient_accumulation_steps",
    "gradient accumulation": "gradient_accumulation_steps", "gradient accumulation steps": "gradient_accumulation_steps",
    "scheduler": "lr_scheduler_type", "lr scheduler": "lr_scheduler_type", "block size": "block_size",
    "block_size": "block_size", "taux d'apprentissage": "learning_rate", "tasa de aprendizaje": "learning_rate",
    "lernrate": "learning_rate", "taxa de aprendizado": "learning_rate", "époques": "num_train_epochs",
    "epochen": "num_train_epochs", "épocas": "num_train_epochs", "train batch size": "per_device_train_batch_size",
    "training batch size": "per_device_train_batch_size", "per-device batch size": "per_device_train_batch_size",
    "per device batch size": "per_device_train_batch_size", "number of epochs": "num_train_epochs",
    "training epochs": "num_train_epochs", "train epochs": "num_train_epochs", "num train epochs": "num_train_epochs",
}
SPLIT_WORDS = {"eval": "eval", "evaluation": "eval", "validation": "eval", "val": "eval", "valid": "eval",
                "dev": "eval", "test": "test", "train": "train", "training": "train"}
_BULLET_RE = re.compile(r"^\s*(?:[-*•+]|\d+[.)])\s+\**([^:=\n]{1,60}?)\**\s*[:=]\s*\**\s*(" + _NUMBER + r"|[^\s].*?)"
                        r"\s*(%?)\**\s*$", re.IGNORECASE)
_PAREN_RE = re.compile(r"\(([^()]*)\)")


class CodeLine(str):
    """A line of a notebook's code cell (jupyter.flatten): its `x = 0.0` is a value the code starts from, never
    a result, while its assignments and calls still tell hyper-parameters and the model."""


def _label_key(label: str) -> str:
    return " ".join(label.strip().strip("*_`").lower().split())


def metric_name(label: str, results_context: bool = False) -> str | None:
    """`Exactitude (Accuracy)` -> `eval_accuracy`; `Training Loss` -> `train_loss`; None if not a metric.

    A label outside the vocabulary names a metric only in a results list (`- Gen Len: 17.4` in a model
    card), where any number is one.
    """
    key = _label_key(label)
    candidates = [key] + [_label_key(inner) for inner in _PAREN_RE.findall(key)] + [_PAREN_RE.sub("", key).strip()]
    for candidate in candidates:
        if candidate.startswith(_SPLIT_PREFIXES) and re.fullmatch(r"[a-z_][\w./-]*", candidate):
            return candidate
        word = _METRIC_WORDS.get(candidate)
        if word:
            return word if word.startswith("train_") or word == "perplexity" else f"eval_{word}"
        split, _, rest = candidate.partition(" ")  # `Test Accuracy`, `Eval F1`, `Train Loss`
        word = _METRIC_WORDS.get(rest) if split in SPLIT_WORDS else None
        if word:
            return f"{SPLIT_WORDS[split]}_{word.removeprefix('train_')}"
    if results_context and re.fullmatch(r"[a-z][a-z0-9 _-]{0,30}", key):
        return "eval_" + re.sub(r"[ -]+", "_", key)
    return None


def hyper_name(label: str) -> str | None:
    """`Learning Rate` -> `learning_rate`, `Batch` -> `per_device_train_batch_size`; None if not one."""
    return _HYPER_WORDS.get(_label_key(label))


def bullet(line: str, results_context: bool = False) -> tuple[str, str, Any] | None:
    """`- F1-Score: 0.8904` -> ("metric", "eval_f1", 0.8904); `- learning_rate: 2e-05` -> ("hyper", ...)."""
    m = _BULLET_RE.match(line)
    if not m:
        return None
    label, raw, percent = m.groups()
    hyper = hyper_name(label)
    if hyper:
        return "hyper", hyper, _hyper_value(hyper, raw)
    number = to_number(raw)
    if number is None:
        return None
    name = metric_name(label, results_context)
    if name is None:
        return None
    return "metric", name, from_percent(number) if percent and name != "eval_loss" else number


_PAIR_RE = re.compile(r"([A-Za-z][\w \-./()]{0,40}?)\**\s*[:=]\s*\**\s*(" + _NUMBER + r")(%?)(?=\s*(?:[,;|]|\*|$))",
                      re.IGNORECASE)
_LEAD_RE = re.compile(r"^\s*(?:[-*•+]|\d+[.)])?\s*(?:\**[\w ]{1,30}\**\s*:\s*)?")


_ROUGE_SCORE_RE = re.compile(r"\bScore\(\s*precision=")


def pairs(line: str) -> list[tuple[str, str, Any]]:
    """`Test Loss: 1.0773, Test Accuracy: 0.5652` or `- **results**: accuracy=0.8667, f1=0.8611`: every
    `label: number` of the line whose label names a metric or a hyper-parameter, when there are two or
    more of them (one alone is a bullet's business)."""
    if "Score(" in line and _ROUGE_SCORE_RE.search(line):
        return []  # rouge_score's `Score(precision=.., recall=.., fmeasure=..)`: one n-gram's parts, not metrics
    body = line
    lead = _LEAD_RE.match(line)
    if lead and not _PAIR_RE.match(line, lead.start(), lead.end() + 1):
        body = line[lead.end():]
    found = _PAIR_RE.findall(body)
    if len(found) < 2:
        return []
    out = []
    for label, raw, percent in found:
        label = label.strip(" ,;|*")
        hyper = hyper_name(label)
        if hyper:
            out.append(("hyper", hyper, _hyper_value(hyper, raw)))
        elif name := metric_name(label):
            number = to_number(raw)
            if number is not None:
                out.append(("metric", name, metric_value(name, number, bool(percent))))
    return out


def from_percent(number: float) -> float:
    """`89.1` (%) -> 0.891, without the float noise of a bare division (0.8909999999999999)."""
    return round(number / 100, 12)


def metric_value(name: str, number: Any, percent: bool) -> Any:
    """A metric's number as written: a percentage is a fraction (`89.1%` -> 0.891), except a loss's."""
    return from_percent(number) if percent and "loss" not in name else number


def _hyper_value(name: str, raw: str) -> Any:
    if name == "precision":
        lowered = raw.lower()
        return "bf16" if "bf16" in lowered else "fp16" if ("amp" in lowered or "fp16" in lowered) else raw.strip()
    number = to_number(raw)
    return raw.strip() if number is None else number


def setting_row(line: str) -> tuple[str, str, Any] | None:
    """A two-cell row of a `| Parameter | Value |` (or `| Metric | Value |`) table: `| learning_rate | 8e-5 |`
    -> ("hyper", "learning_rate", 8e-05), `| Accuracy | **0.91** |` -> ("metric", "eval_accuracy", 0.91)."""
    parts = cells(line)
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    label, raw = parts[0].strip("*_` "), parts[1].strip("*_` ")
    if hyper := hyper_name(label):
        return "hyper", hyper, _hyper_value(hyper, raw)
    if (name := metric_name(label)) and (found := cell_number(raw)) is not None:
        return "metric", name, metric_value(name, *found)
    return None


# ---- one run's splits side by side: `| Split | Loss | Perplexity |` over rows train / validation / test, or
# `| Metric | Train | Validation | Test |` over rows loss / perplexity (a runs table refuses both) ----

_SPLIT_HEADS = {"", "split", "splits", "set", "subset", "data", "partition"}
_METRIC_HEADS = {"", "metric", "metrics", "measure"}


def split_word(label: str) -> str | None:
    """`Validation set` -> `validation` (a SPLIT_WORDS word, as metric_name reads it); None for no split."""
    key = " ".join(label.strip("*_` ").lower().split()).removesuffix(" set").removesuffix(" split")
    return key if key in SPLIT_WORDS else None


def splits_header(line: str) -> tuple[str, list[str]] | None:
    """How a table header lays out one run's splits: ("rows", its metric labels) when the rows are splits,
    ("columns", the split words) when the columns are; None for any other header."""
    if "|" not in line:
        return None
    parts = cells(line)
    head, rest = parts[0].strip("*_` ").lower(), parts[1:]
    if len(rest) >= 2 and head in _METRIC_HEADS and all(words := [split_word(c) for c in rest]):
        return "columns", words
    if rest and head in _SPLIT_HEADS and not any(split_word(c) for c in rest) and all(map(metric_name, rest)):
        return "rows", rest
    return None


def splits_row(line: str, layout: tuple[str, list[str]]) -> list[tuple[str, Any]] | None:
    """[(metric, value)] of one row under splits_header's layout; None when the line is no such row."""
    parts = cells(line) if "|" in line else []
    if len(parts) != len(layout[1]) + 1:
        return None
    if layout[0] == "rows":
        split = split_word(parts[0])
        labels = [f"{split} {label}" for label in layout[1]] if split else []
    else:
        labels = [f"{split} {parts[0].strip('*_` ')}" for split in layout[1]]
    found = []
    for label, raw in zip(labels, parts[1:]):
        name, number = metric_name(label), cell_number(raw)
        if name and number is not None:
            found.append((name, metric_value(name, *number)))
    return found if labels else None


# ---- a hand-written loop's progress line, led by its counter: `Epoch: 2, Train Loss: 1.95, Val Loss: 1.98`,
# nanoGPT's `step 250: train loss 3.21, val loss 3.40` and `iter 10: loss 8.43, time 1500.12ms, mfu 12.34%` ----

_COUNTER_RE = re.compile(r"^\W*(epoch|step|iteration|iter)\b\s*[:=#]?\s*(\d+(?:\.\d+)?)(?:\s*/\s*(\d+))?[\s:,|)\]-]*",
                         re.IGNORECASE)
# Segments: between commas, pipes, ` - ` (Keras), runs of spaces, or after a number where a word follows.
_SEGMENTS_RE = re.compile(r"\s*[,;|]\s*|\s+-\s+|\s{2,}|(?<=[\d%])\s+(?=[A-Za-z_])")
_SEGMENT_RE = re.compile(r"([A-Za-z][\w ./()-]{0,40}?)\s*[:=]?\s*(" + _NUMBER + r")\s*(%?)", re.IGNORECASE)


def counter_line(line: str) -> tuple[str, int | float, int | None, dict[str, Any]] | None:
    """(counter word, count, total, metrics) of a loop's progress line, None for any other line: `Epoch 2/3:
    loss 1.9, val_acc: 58%` -> ('epoch', 2, 3, {'train_loss': 1.9, 'eval_accuracy': 0.58}) (_progress_metrics
    names them). A counter alone (Keras' `Epoch 2/10`) has no metrics; one before words that hold no metric
    (`Step 1: load the data`) is no counter."""
    counter = _COUNTER_RE.match(line)
    if counter is None:
        return None
    rest = line[counter.end():].strip()
    metrics = _progress_metrics(rest)
    if rest and not metrics:
        return None
    word, count, total = counter.groups()
    return word.lower(), to_number(count), int(total) if total else None, metrics


_KERAS_BAR_RE = re.compile(r"^\s*\d+/\d+\s*\[[=>.\s]*\]\s*-\s*")  # `1875/1875 [=====] - `


def keras_line(line: str) -> dict[str, Any]:
    """The metrics of Keras' `1875/1875 [====] - 5s 2ms/step - loss: 0.40 - val_loss: 0.50` ({} for any other line):
    its epoch is the `Epoch 2/10` line before it. A saved bar keeps every update before a carriage return: the
    last is the epoch's."""
    line = line.rsplit("\r", 1)[-1]
    bar = _KERAS_BAR_RE.match(line)
    return _progress_metrics(line[bar.end():]) if bar else {}


def _progress_metrics(text: str) -> dict[str, Any]:
    """`loss 1.9, val_acc: 58%` (or the dict accelerate's examples print, `{'accuracy': 0.85, 'f1': 0.89}`) -> metrics.

    A bare loss (or perplexity) is the training one; another bare metric is the training one when the line names its
    validation twin (Keras' `accuracy` beside `val_accuracy`), else it is an evaluation's, as in a report."""
    found: list[tuple[list[str], Any, bool]] = []  # (label words, value, written as a percentage)
    literal = parse_dict_literal(text) if text.startswith("{") else None
    if literal is not None:
        found = [(str(k).lower().replace("_", " ").split(), v, False) for k, v in literal.items()]
    else:
        for segment in _SEGMENTS_RE.split(text):
            if match := _SEGMENT_RE.fullmatch(segment.strip(" *`")):
                found.append((match.group(1).lower().replace("_", " ").split(), to_number(match.group(2)),
                              bool(match.group(3))))
    named = [(metric_name(" ".join(words)) if words else None, words, value, percent)
             for words, value, percent in found]
    stated = {name for name, words, _, _ in named if name and words[0] in SPLIT_WORDS}
    metrics: dict[str, Any] = {}
    for name, words, value, percent in named:
        if name is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if words[0] not in SPLIT_WORDS and (name in ("eval_loss", "perplexity") or name in stated):
            name = "train_" + name.removeprefix("eval_")
        metrics.setdefault(name, metric_value(name, value, percent))
    return metrics


# ---- header-less metric lines: `eval_rouge1 = 46.6`, `"eval_loss": 3.49,`, `train_loss: 0.3` ----

_LOOSE_RE = re.compile(r"""^\s*['"]?((?:eval|train|test|predict|validation|val)_[A-Za-z0-9_./-]+|epoch)['"]?"""
                       r"\s*[:=]\s*['\"]?(" + _NUMBER + r""")['"]?\s*,?\s*$""", re.IGNORECASE)


def loose_metric(line: str) -> tuple[str, Any] | None:
    m = _LOOSE_RE.match(line)
    if not m:
        return None
    value = to_number(m.group(2))
    return (m.group(1), value) if value is not None else None


# ---- dicts that are not literals: `{'eval_f1': array([0.1, 0.6]), 'eval_acc': tensor(0.5), ...}` ----

_ITEM_RE = re.compile(
    r"""['"]([^'"\n]{1,100})['"]\s*:\s*(?:['"](""" + _NUMBER + r""")['"]"""
    r"|(" + _NUMBER + r")(?![\w(])"
    r"|(?:[A-Za-z_][\w.]*)\(\s*\[?\s*(" + _NUMBER + r")\s*\]?\s*(?:,[^()\[\]]*)?\))",
    re.IGNORECASE,
)


def loose_items(text: str) -> dict[str, Any]:
    """Every `'key': scalar` in `text`, wrappers such as `tensor(0.5, device='cuda:0')`, `np.float64(0.9)`
    and one-element `array([0.3])` unwrapped; arrays of several values are not scalars and are left out.
    Read by pattern, never evaluated."""
    out: dict[str, Any] = {}
    for key, quoted, bare, wrapped in _ITEM_RE.findall(text):
        value = to_number(quoted or bare or wrapped)
        if value is not None:
            out.setdefault(key, value)
    return out


# ---- `TrainingArguments(...)`: code people quote, and the repr Trainer logs ----

ARGS_CALL_RE = re.compile(r"\b(?:Seq2Seq)?(?:Training|SFT|DPO|GRPO|Reward|PPO|ORPO|KTO)(?:Arguments|Config)\(")
_KWARG_RE = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*(.*?)\s*$", re.DOTALL)
# A value that is code, not data: a variable, `args.lr`, a call, arithmetic (`2 * bs`), a subscript.
_CODE_RE = re.compile(r"^[A-Za-z_]\w*$|^[A-Za-z_]\w*(?:\.[a-z_]\w*)+$|[()\[\]+*\s]")
_NUMERIC_ARGS = {"learning_rate", "num_train_epochs", "per_device_train_batch_size", "gradient_accumulation_steps",
                 "seed", "max_steps", "warmup_steps", "weight_decay", "warmup_ratio", "block_size"}


_COMMENT = "comment"  # what _scan yields as `hidden` for the characters of a `# comment` (truthy, as in a string)


def _scan(text: str, start: int = 0):
    """(index, character, bracket depth after it, hidden?) for each character from `start`: hidden is True
    inside quotes, _COMMENT inside a `# comment`. A comment (code people quote: `lr=2e-4,  # don't raise it`)
    runs to the end of its line; its brackets and quotes count for nothing."""
    depth, quote, comment = 0, "", False
    for i in range(start, len(text)):
        ch = text[i]
        if comment:
            if ch != "\n":
                yield i, ch, depth, _COMMENT
                continue
            comment = False
        elif ch == "#" and not quote and (i == start or text[i - 1] in " \t\n,([{"):
            comment = True
            yield i, ch, depth, _COMMENT
            continue
        if quote or ch in "'\"":
            quote = "" if ch == quote else (quote or ch)
            yield i, ch, depth, True
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        yield i, ch, depth, False


def balanced_end(text: str, start: int) -> int | None:
    """Index just past the bracket closing the one at `start`, quotes respected; None when it never closes."""
    for i, ch, depth, quoted in _scan(text, start):
        if not quoted and ch in ")]}" and depth == 0:
            return i + 1
    return None


def _top_level_split(text: str) -> list[str]:
    """The parts between top-level commas and line ends, each cut at its first `# comment`
    (`fp16=True  # use fp16` -> `fp16=True`; a `#` inside quotes stays)."""
    parts, begin, cut = [], 0, None
    for i, ch, depth, hidden in _scan(text):
        if hidden is _COMMENT:
            cut = i if cut is None else cut
        elif not hidden and ch in ",\n" and depth == 0:
            parts.append(text[begin:i if cut is None else cut])
            begin, cut = i + 1, None
    parts.append(text[begin:] if cut is None else text[begin:cut])
    return parts


def call_kwargs(inner: str, assigned: dict[str, Any] | None = None) -> dict[str, Any]:
    """`learning_rate=2e-5, fp16=True, output_dir="out"` -> values; a bare name in code (`batch_size`)
    is a variable: its value when the text assigned it a literal before (`assigned`), else left out."""
    out: dict[str, Any] = {}
    for part in _top_level_split(inner):
        m = _KWARG_RE.match(part)
        if not m:
            continue
        key, raw = m.groups()
        raw = raw.rstrip(",").strip()
        if not raw:
            continue
        if raw[0] in "'\"" and raw[-1] == raw[0] and len(raw) >= 2:
            out[key] = raw[1:-1]
            continue
        number = to_number(raw)
        if number is not None:
            out[key] = number
        elif assigned and raw in assigned:
            out[key] = assigned[raw]
        elif raw in ("True", "False"):
            out[key] = raw == "True"
        elif key not in _NUMERIC_ARGS and not _CODE_RE.search(raw) and raw[0] not in "[{(":
            out[key] = raw  # a repr's unquoted value: a path, `SchedulerType.LINEAR`
    return out


# ---- progress tables: Trainer's notebook table, a model card's `Training results`, pasted copies ----

_TABLE_NAMES = {"training loss": "loss", "train loss": "loss", "validation loss": "eval_loss",
                "val loss": "eval_loss", "eval loss": "eval_loss", "epoch": "epoch", "step": "step"}
_MISSING_CELLS = {"no log", "-", "", "n/a", "nan?", "none"}
_PHRASES = ("training loss", "validation loss", "train loss", "val loss", "eval loss", "gen len", "exact match",
            "matthews correlation", "samples per second")


def cells(line: str) -> list[str]:
    """A table line's cells: between pipes, else tabs, else runs of two or more spaces."""
    text = line.strip()
    if text.startswith("|") or text.count("|") >= 2:
        return [c.strip() for c in text.strip("|").split("|")]
    if "\t" in text:
        return [c.strip() for c in text.split("\t")]
    return [c.strip() for c in re.split(r"\s{2,}", text)]


def _phrase_cells(line: str) -> list[str]:
    """A header pasted with single spaces: known two-word names kept together."""
    text = " ".join(line.split()).lower()
    for phrase in _PHRASES:
        text = text.replace(phrase, phrase.replace(" ", "\0"))
    return [word.replace("\0", " ") for word in text.split(" ")]


def column_name(cell: str) -> str:
    key = _label_key(cell)
    if key in _TABLE_NAMES:
        return _TABLE_NAMES[key]
    word = _METRIC_WORDS.get(key)
    if word:
        return word if word.startswith("train_") else f"eval_{word}"
    return "eval_" + re.sub(r"[^0-9a-z]+", "_", key).strip("_")


def table_header(line: str) -> list[str] | None:
    """Column names when `line` heads a progress table (it names a loss and an epoch or step column)."""
    lowered = line.lower()
    if "loss" not in lowered or ("epoch" not in lowered and "step" not in lowered):
        return None
    parts = [c for c in cells(line) if c] if "|" in line else cells(line)
    if len(parts) < 2:
        parts = _phrase_cells(line)
    names = [column_name(c) for c in parts]
    if not ({"loss", "eval_loss"} & set(names) and {"epoch", "step"} & set(names)):
        return None
    return names


_CELL_NUMBER_RE = re.compile(
    r"^(?:[<>~≈]=?\s*)?([-+−]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)\s*(%?)"
    r"\s*(?:(?:±|\+/?-|\(|\[).*)?$", re.IGNORECASE)
_THOUSANDS_RE = re.compile(r"^[-+]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?$")
_AMBIGUOUS_RE = re.compile(r"^[-+]?[1-9]\d{0,2},\d{3}$")  # `1,234`: thousands, or a decimal comma?
_DECIMAL_COMMA_RE = re.compile(r"^[-+]?\d+,\d+$")


def comma_kind(raw: str) -> str | None:
    """How a number written with a comma reads: `decimal` (`1,0498`, `0,891`, `12,5`), `thousands`
    (`12,345,678`, `1,234.5`), `ambiguous` (`1,234`: one comma, exactly three digits after it, no point),
    or None (not such a number)."""
    if _AMBIGUOUS_RE.match(raw):
        return "ambiguous"
    if _THOUSANDS_RE.match(raw):
        return "thousands"
    return "decimal" if _DECIMAL_COMMA_RE.match(raw) else None


def comma_reading(cells) -> bool | None:
    """Whether cells that belong together (a column, a table) write decimals with a comma: True when one
    can only be read so and none only as thousands, False for the other way round, None when none decides."""
    kinds = set()
    for cell in cells:
        if "," in cell and (m := _CELL_NUMBER_RE.match(_bare_cell(cell))):
            kinds.add(comma_kind(m.group(1).replace("−", "-")))
    if ("decimal" in kinds) == ("thousands" in kinds):
        return None
    return "decimal" in kinds


def _bare_cell(cell: str) -> str:
    return cell.strip().strip("*_`").rstrip("*†‡§¹²³ ").strip("*_`").strip()


def cell_number(cell: str, decimal_comma: bool | None = None) -> tuple[int | float, bool] | None:
    """(value, written as a percentage?) of a hand-written table cell; None when it holds no number.

    Emphasis and footnote marks go (`**0.902**`, `0.88†`); a spread keeps the mean (`0.89 ± 0.01`,
    `0.89 (0.01)`, `0.89 +/- 0.01`). Commas: `1,234.5` and `12,345,678` have thousands, `0,891` and `1,0498`
    a decimal comma; `1,234` (one comma, three digits after it) is a thousand and more unless
    `decimal_comma` says the cells around it (its column, its table: see comma_reading) write decimal commas."""
    m = _CELL_NUMBER_RE.match(_bare_cell(cell))
    if not m:
        return None
    raw = m.group(1).replace("−", "-")
    if "," in raw:
        kind = comma_kind(raw)
        if kind == "ambiguous":
            kind = "decimal" if decimal_comma else "thousands"
        raw = raw.replace(",", "") if kind == "thousands" else raw.replace(",", ".") if kind == "decimal" else ""
    number = to_number(raw)
    return None if number is None else (number, bool(m.group(2)))


def is_rule(line: str) -> bool:
    """A Markdown table's `|:---:|---|` line."""
    stripped = line.strip()
    return bool(stripped) and set(stripped) <= set("|:- \t") and "-" in stripped


def table_row(line: str, names: list[str], commas: dict[str, bool] | None = None) -> dict[str, Any] | None:
    """One row as a history entry (`No log` cells left out); None when the line is not a row of this table.
    A cell a person emphasised or wrote as a percentage (`**0.8676**`, `85.45%`) reads as in a runs table,
    commas as cell_number reads them. `commas` is the table's memory across rows (the caller keeps one dict
    per table): column name -> True once a cell of that column could only be a decimal comma (`1,0498`),
    False once only thousands (`12,345,678`); `""` for the table as a whole. An ambiguous `1,234` follows
    its column, else the table, else reads as thousands."""
    parts = [c for c in cells(line) if c] if "|" in line else cells(line)
    if len(parts) != len(names):  # pasted with single spaces: `No log` is the one cell with a space
        parts = re.sub(r"(?i)\bno log\b", "-", line).split()
    if len(parts) != len(names):
        return None
    if "," in line:
        commas = {} if commas is None else commas
        for name, cell in zip(names, parts):
            if "," in cell and (seen := comma_reading((cell,))) is not None:
                commas[name] = commas[""] = seen
    entry: dict[str, Any] = {}
    for name, cell in zip(names, parts):
        number = to_number(cell) if "," not in cell else None
        if number is None and (found := cell_number(cell, commas and commas.get(name, commas.get("")))) is not None:
            number = metric_value(name, *found)
        if number is not None:
            entry[name] = number
        elif cell.strip().lower() not in _MISSING_CELLS:
            return None
    return entry if entry else None


# ---- how far a run got ----

_NOTEBOOK_PROGRESS_RE = re.compile(r"\[\s*(\d+)/(\d+)\s+[\d:]+(?:\s*<\s*[\d:]+)?,\s*Epoch\s+([\d.]+)/(\d+)")
# Trainer's own bars have no description in front (`Map: 100%|...`, `Downloading ...` are datasets' and hub's).
_TQDM_RE = re.compile(r"(?:^|\r)\s*\d+%\|[^|\r]*\|\s*(\d+)/(\d+)\s*\[")


def progress(line: str) -> tuple[int, int, float | None] | None:
    """(step, total, epoch) from `[250/250 05:31, Epoch 1/1]`, or (step, total, None) from a tqdm bar."""
    m = _NOTEBOOK_PROGRESS_RE.search(line)
    if m:
        return int(m.group(1)), int(m.group(2)), float(m.group(3))
    found = _TQDM_RE.findall(line)
    if found:
        step, total = found[-1]
        return int(step), int(total), None
    return None


# ---- log chatter: never a person's notes ----

_LOG_LINE_RE = re.compile(
    r"^\s*(?:\[?(?:INFO|WARNING|WARN|DEBUG|ERROR|CRITICAL)\b[|:\]\s]"
    r"|\d{2,4}[-/]\d{2}[-/]\d{2,4}[ T]\d{2}:\d{2}"
    r"|.* - (?:INFO|WARNING|DEBUG|ERROR) - "
    r"|[\w.]+:\d+\] "
    r"|(?:Downloading|Loading|loading|Generating|Map|Filter|Tokeniz|Running tokenizer|Some weights|You should"
    r"|Using |wandb:|Saving model|Configuration saved|Model weights saved|tokenizer config|Special tokens"
    r"|Deleting older checkpoint|Training completed|PyTorch: setting up|Dropping|Reading|Creating)\b"
    r"|File \"|\s*\^+\s*$|[A-Z][A-Za-z/]+=\S*(?: [A-Z][A-Za-z/]+=\S*)*\s*$"
    r"|[{}\[\](),]+$|\"[\w.-]+\": )"
)


def is_log_line(line: str) -> bool:
    """A line a program printed (logging, a library's progress chatter, a config dump, a Slurm `Key=value`
    dump), as opposed to something a person wrote."""
    return bool(_LOG_LINE_RE.match(line))
