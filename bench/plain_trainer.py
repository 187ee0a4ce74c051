"""The baseline for bench_throughput.py: a plain transformers.Trainer script, as a user would write it.

Same work as run_clm.py's default job: load the text, tokenize with the same tokenizer, pack into blocks,
train a GPT-2-shaped model from its config, save the weights. Prints one JSON line of measurements.
"""

import json
import resource
import sys

from datasets import load_dataset  # noqa: E402
from transformers import (  # noqa: E402
    AutoTokenizer,
    GPT2Config,
    GPT2LMHeadModel,
    Trainer,
    TrainingArguments,
    default_data_collator,
    set_seed,
)


def main(train_file, tokenizer_dir, output_dir, steps, batch, block, layers, dims):
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    raw = load_dataset("text", data_files={"train": train_file}, keep_linebreaks=True)["train"]
    tokenized = raw.map(lambda b: tokenizer(b["text"]), batched=True, remove_columns=["text"])

    def group(examples):
        ids = [t for row in examples["input_ids"] for t in row]
        mask = [t for row in examples["attention_mask"] for t in row]
        total = len(ids) // block * block
        out = {"input_ids": [ids[i:i + block] for i in range(0, total, block)],
               "attention_mask": [mask[i:i + block] for i in range(0, total, block)]}
        out["labels"] = [x.copy() for x in out["input_ids"]]
        return out

    packed = tokenized.map(group, batched=True)
    set_seed(42)
    config = GPT2Config(n_layer=layers, n_head=4, n_embd=dims, n_positions=256, vocab_size=len(tokenizer),
                        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    args = TrainingArguments(output_dir=output_dir, max_steps=steps, per_device_train_batch_size=batch,
                             learning_rate=1e-3, logging_steps=10, save_strategy="no", report_to="none",
                             disable_tqdm=True, dataloader_pin_memory=False, seed=42)
    trainer = Trainer(model=GPT2LMHeadModel(config), args=args, train_dataset=packed,
                      data_collator=default_data_collator)
    result = trainer.train()
    trainer.save_model(output_dir)
    print(json.dumps({"train_runtime": result.metrics["train_runtime"],
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0], a[1], a[2], *map(int, a[3:]))
