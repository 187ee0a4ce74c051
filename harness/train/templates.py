"""Instruction records (the Alpaca layout: `instruction`, optional `input`, `output`) as training text.

`data.template=alpaca` turns each JSON/JSONL/CSV record into the prompt Stanford Alpaca trained with, then the
response and the end-of-text token. With `data.train_on_response_only=true` the prompt's tokens are labelled
-100, so the loss (and eval accuracy) count only the response. `harness generate` wraps prompts the same way
for a version trained with a template (`TEMPLATES["alpaca"]` is the no-input prompt). One home for both kinds:
the prompt templates `generate` and `eval.prompts` apply, and the record templates `data.template` trains on.
"""

from harness.errors import UserError

ALPACA_INPUT = ("Below is an instruction that describes a task, paired with an input that provides further context. "
                "Write a response that appropriately completes the request.\n\n"
                "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n")
ALPACA_NO_INPUT = ("Below is an instruction that describes a task. Write a response that appropriately completes "
                   "the request.\n\n### Instruction:\n{instruction}\n\n### Response:\n")
DATA_TEMPLATES = ("none", "alpaca")
# A prompt as the model saw prompts in training: `{prompt}` is replaced (never str.format: code has braces).
TEMPLATES = {
    "none": "{prompt}",
    "instruction": "### Instruction:\n{prompt}\n\n### Response:\n",
    "alpaca": ALPACA_NO_INPUT.replace("{instruction}", "{prompt}"),  # what data.template=alpaca trained on
}
COLUMNS = {"alpaca": ("instruction", "output")}  # required; `input` may be missing or empty


def check_columns(template: str, columns: list[str]) -> None:
    missing = [c for c in COLUMNS.get(template, ()) if c not in columns]
    if missing:
        raise UserError(f"data.template={template} needs records with {', '.join(COLUMNS[template])} "
                        f"(and optionally input); the train file has no {', '.join(missing)} "
                        f"(columns: {', '.join(columns)})")


def alpaca_prompt(instruction: str, context: str | None = None) -> str:
    """The prompt part; replace, not format, so braces in a record (code) pass through untouched."""
    if context and context.strip():
        return ALPACA_INPUT.replace("{input}", context).replace("{instruction}", instruction)
    return ALPACA_NO_INPUT.replace("{instruction}", instruction)


def tokenize_records(batch: dict, tokenizer, response_only: bool) -> dict:
    """input_ids = prompt + response + EOS for each record; labels hide the prompt when response_only.

    Prompt and response are tokenized apart so the label mask falls exactly on the boundary."""
    eos = tokenizer.eos_token_id
    contexts = batch.get("input") or [None] * len(batch["instruction"])
    prompts = [alpaca_prompt(str(i or ""), c) for i, c in zip(batch["instruction"], contexts)]
    prompt_ids = tokenizer(prompts, verbose=False)["input_ids"]
    response_ids = tokenizer([str(o or "") for o in batch["output"]], verbose=False)["input_ids"]
    out = {"input_ids": [], "attention_mask": [], "labels": []}
    for prompt, response in zip(prompt_ids, response_ids):
        ids = prompt + response + ([eos] if eos is not None else [])
        out["input_ids"].append(ids)
        out["attention_mask"].append([1] * len(ids))
        out["labels"].append(([-100] * len(prompt) + ids[len(prompt):]) if response_only else list(ids))
    return out


def apply_template(prompt: str, template: str = "none") -> str:
    if template not in TEMPLATES:
        raise UserError(f"unknown template {template!r}: use one of {', '.join(TEMPLATES)}")
    # replace, not format: a prompt full of braces (code) must pass through untouched.
    return TEMPLATES[template].replace("{prompt}", prompt)
