"""Sampling from a model: settings, templates applied, generation, and the prompts x versions grid it prints.

Used at the end of a run (eval.prompts) and by `python -m harness generate` (harness/rerun/generate.py).
torch is imported inside functions: building the harness's parsers must not pay for it.
"""

import json
import sys
from dataclasses import asdict, dataclass, fields

from harness.errors import UserError
from harness.markup import markdown_text
from harness.train.config import EvalConfig
from harness.train.templates import TEMPLATES, apply_template

# YAML folds these into spaces when it reads a log back, so a sample would not survive its own log.
LINE_SEPARATORS = str.maketrans({"\u2028": "\n", "\u2029": "\n", "\x85": "\n"})
MISSING = "(not recorded)"


# ----- sampling settings and templates -----

@dataclass(frozen=True)
class Sampling:
    do_sample: bool = True
    temperature: float = 0.8
    top_p: float = 0.95
    top_k: int = 50
    max_new_tokens: int = 100
    seed: int = 0
    template: str = "none"

    @classmethod
    def from_cfg(cls, eval_cfg: dict | None) -> "Sampling":
        """From the run config's eval group; a log recorded before a key existed gets its default."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (eval_cfg or {}).items() if k in names}).checked()

    def checked(self) -> "Sampling":
        problems = [f"{name} {problem}, got {getattr(self, name)!r}" for name, problem in (
            ("temperature", None if self.temperature > 0 else "must be > 0"),
            ("top_p", None if 0 < self.top_p <= 1 else "must be in (0, 1]"),
            ("top_k", None if self.top_k >= 0 else "must be >= 0"),
            ("max_new_tokens", None if self.max_new_tokens >= 1 else "must be >= 1"),
        ) if problem]
        if self.template not in TEMPLATES:
            problems.append(f"template must be one of {', '.join(TEMPLATES)}, got {self.template!r}")
        if problems:
            raise UserError("bad sampling settings: " + "; ".join(problems))
        return self

    def generate_kwargs(self, max_new_tokens: int) -> dict:
        if not self.do_sample:
            # Sampling knobs next to do_sample=False only earn a transformers warning.
            return {"do_sample": False, "max_new_tokens": max_new_tokens}
        return {"do_sample": True, "temperature": self.temperature, "top_p": self.top_p, "top_k": self.top_k,
                "max_new_tokens": max_new_tokens}

    def describe(self) -> str:
        how = (f"sampled (temperature {self.temperature}, top_p {self.top_p}, top_k {self.top_k})"
               if self.do_sample else "greedy")
        return f"{how}, max_new_tokens {self.max_new_tokens}, seed {self.seed}, template {self.template}"


# ----- generation -----

def complete(model, tokenizer, text: str, sampling: Sampling, streamer=None):
    """(token ids of prompt + continuation, number of prompt tokens), seeded right before generating so
    every (version, prompt) pair gives the same text whatever order they run in. `streamer`: generate()'s
    (harness bench times each new token with one)."""
    import torch
    from transformers import set_seed

    ids = tokenizer(text, return_tensors="pt")["input_ids"]
    if ids.shape[1] == 0:  # an empty prompt: start from the end-of-text token, as GPT-2 did in training
        ids = torch.tensor([[_eos_id(tokenizer)]])
    ids, new_tokens = _fit_context(model, ids, sampling.max_new_tokens)
    device = next(model.parameters()).device
    set_seed(sampling.seed)
    with torch.inference_mode():
        out = model.generate(input_ids=ids.to(device), attention_mask=torch.ones_like(ids).to(device),
                             pad_token_id=_eos_id(tokenizer), streamer=streamer, **sampling.generate_kwargs(new_tokens))
    return out[0].cpu(), ids.shape[1]


def _eos_id(tokenizer) -> int:
    eos = tokenizer.eos_token_id
    return eos if eos is not None else tokenizer.pad_token_id


def _fit_context(model, ids, max_new_tokens: int):
    """Positions past the model's context crash GPT-2-style models: shorten the answer, then the prompt."""
    config = model.config
    limit = getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", None)
    if not limit or ids.shape[1] + max_new_tokens <= limit:
        return ids, max_new_tokens
    if ids.shape[1] >= limit:
        keep = limit // 2
        print(f"warning: prompt of {ids.shape[1]} tokens is longer than the model's context ({limit}): "
              f"keeping its last {keep} tokens", file=sys.stderr)
        ids = ids[:, -keep:]
    return ids, limit - ids.shape[1]


def sample(model, tokenizer, prompt: str, sampling: Sampling) -> str:
    """The continuation only (the prompt and template are not repeated)."""
    ids, prompt_len = complete(model, tokenizer, apply_template(prompt, sampling.template), sampling)
    return tokenizer.decode(ids[prompt_len:], skip_special_tokens=True).translate(LINE_SEPARATORS)


def generate_samples(model, tokenizer, prompts: list[str], sampling: Sampling) -> list[dict]:
    was_training = model.training
    model.eval()
    try:
        return [{"prompt": p, "output": sample(model, tokenizer, p, sampling)} for p in prompts]
    finally:
        model.train(was_training)


# ----- samples at the end of a run -----

def record_samples(trainer, log, eval_cfg: EvalConfig, version: str) -> None:
    """End of a run: sample eval.prompts from the trained model, print them, and log them."""
    sampling = Sampling.from_cfg(eval_cfg.to_dict())
    try:
        samples = generate_samples(trainer.model, trainer.processing_class, list(eval_cfg.prompts), sampling)
    except Exception as exc:  # the weights are saved and the run succeeded: a failed sample must not say otherwise
        message = f"eval.prompts: sampling failed: {type(exc).__name__}: {exc}".splitlines()[0]
        print(f"warning: {message}", file=sys.stderr)
        log.field("warning", message)
        return
    print_rich([{"version": version, **s} for s in samples], caption=sampling.describe())
    log.section("samples", samples)


# ----- rendering: one column per version, one row per prompt -----

def grid(records: list[dict]) -> tuple[list[str], list[str], dict]:
    """(versions, prompts, {(prompt, version): output}), both lists in first-seen order."""
    labels = list(dict.fromkeys(r["version"] for r in records))
    prompts = list(dict.fromkeys(r["prompt"] for r in records))
    return labels, prompts, {(r["prompt"], r["version"]): r["output"] for r in records}


def render_rich(records: list[dict], console, caption: str | None = None) -> None:
    from rich.table import Table
    from rich.text import Text

    labels, prompts, cells = grid(records)
    table = Table(show_lines=True, caption=caption, expand=True)
    table.add_column("prompt", style="bold", ratio=1)
    for label in labels:
        table.add_column(label, ratio=2)
    for prompt in prompts:
        # Text, not str: model output full of [brackets] must not be read as rich markup.
        table.add_row(Text(prompt), *(Text(cells.get((prompt, label), MISSING)) for label in labels))
    console.print(table)


def print_rich(records: list[dict], caption: str | None = None) -> None:
    from rich.console import Console

    render_rich(records, Console(), caption)


def render_markdown(records: list[dict], caption: str | None = None) -> str:
    labels, prompts, cells = grid(records)
    lines = [f"_{caption}_", ""] if caption else []
    lines += [_md_row(["prompt", *labels]), _md_row(["---"] * (len(labels) + 1))]
    lines += [_md_row([prompt, *(cells.get((prompt, label), MISSING) for label in labels)]) for prompt in prompts]
    return "\n".join(lines) + "\n"


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(_md_cell(c) for c in cells) + " |"


def _md_cell(text: str) -> str:
    # Escaped so that model output cannot break the table or be read as HTML; its lines joined by <br>.
    return "<br>".join(markdown_text(line) for line in text.replace("\r", "").strip("\n").split("\n"))


def render_json(records: list[dict], sampling: Sampling | None = None) -> str:
    document = {"settings": asdict(sampling) if sampling else None, "samples": records}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
