"""int8 dynamic quantization against fp32 for a GPT-2-shaped model on this CPU: latency ratio, side by side.

    python bench/bench_quantize.py [--layers 6] [--dims 512] [--vocab 50257] [--rounds 8] [--new-tokens 32]
                                   [--prompt-tokens 32] [--threads 1]

The model is GPT-2-shaped (Conv1D layers, tied lm_head), built from a config with fixed random weights (the
weights do not change the cost). The int8 model is `harness bench`'s: Conv1D -> nn.Linear, then
torch.ao.quantization.quantize_dynamic on every nn.Linear (lm_head included). Both models live in this one
process; every round generates greedily with each of them, the order alternating from round to round, with
exactly --new-tokens tokens (min_new_tokens) after the same prompt. Per request, a streamer timestamps each
token (harness.rerun.bench.request_timing): time to first token and ms per generated token after it.
Printed: medians over the rounds for each model, the int8/fp32 ratios, the state-dict size ratio, and how far
int8's logits on the prompt are from fp32's.
On a shared machine absolute figures drift with the load; the ratios, measured interleaved, much less.
"""

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def build(layers: int, dims: int, vocab: int):
    import torch
    from transformers import AutoModelForCausalLM, GPT2Config

    torch.manual_seed(0)
    config = GPT2Config(n_layer=layers, n_embd=dims, n_head=max(1, dims // 64), n_positions=1024, vocab_size=vocab,
                        bos_token_id=0, eos_token_id=0)
    return AutoModelForCausalLM.from_config(config).eval()


def one_request(model, prompt, new_tokens: int) -> dict:
    import torch

    from harness.rerun.bench import request_timing, token_clock

    clock = token_clock()
    start = time.perf_counter()
    with torch.inference_mode():
        model.generate(input_ids=prompt, attention_mask=torch.ones_like(prompt), do_sample=False, pad_token_id=0,
                       max_new_tokens=new_tokens, min_new_tokens=new_tokens, streamer=clock)
    return request_timing(start, clock.times, time.perf_counter())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--dims", type=int, default=512)
    parser.add_argument("--vocab", type=int, default=50257)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--prompt-tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1: steadier on a shared CPU)")
    args = parser.parse_args()

    import torch
    from transformers.utils import logging

    from harness.rerun.bench import quantize_int8, state_dict_mb

    logging.set_verbosity_error()
    torch.set_num_threads(args.threads)
    fp32 = build(args.layers, args.dims, args.vocab)
    int8, notes = quantize_int8(copy.deepcopy(fp32))
    models = {"fp32": fp32, "int8": int8}
    prompt = torch.randint(1, args.vocab, (1, args.prompt_tokens), generator=torch.Generator().manual_seed(1))
    for model in models.values():  # warm-up: first calls allocate and pick kernels
        one_request(model, prompt, 4)
    results = {name: [] for name in models}
    for round_ in range(args.rounds):
        order = list(models) if round_ % 2 == 0 else list(reversed(models))
        for name in order:
            results[name].append(one_request(models[name], prompt, args.new_tokens))

    def median(name, key):
        return statistics.median(r[key] for r in results[name])

    sizes = {name: state_dict_mb(m) for name, m in models.items()}
    print(f"GPT-2-shaped: {args.layers} layers, {args.dims} dims, vocab {args.vocab}; torch {torch.__version__}, "
          f"{args.threads} thread(s), quantized engine {torch.backends.quantized.engine}")
    print(f"{args.rounds} rounds, interleaved; {args.prompt_tokens} prompt tokens, {args.new_tokens} new tokens, greedy")
    for note in notes:
        print(note)
    print(f"{'':6}{'ms/token':>10}{'TTFT ms':>10}{'size MB':>10}")
    for name in models:
        print(f"{name:6}{median(name, 'ms_per_token'):10.2f}{median(name, 'ttft_ms'):10.2f}{sizes[name]:10.1f}")
    print(f"int8/fp32 ratio: ms/token {median('int8', 'ms_per_token') / median('fp32', 'ms_per_token'):.3f}, "
          f"TTFT {median('int8', 'ttft_ms') / median('fp32', 'ttft_ms'):.3f}, size {sizes['int8'] / sizes['fp32']:.3f}")
    with torch.inference_mode():
        reference, quantized = fp32(prompt).logits, int8(prompt).logits
    same = (reference.argmax(-1) == quantized.argmax(-1)).float().mean().item()
    print(f"int8 logits vs fp32 on the prompt: max |diff| {(quantized - reference).abs().max().item():.4f} "
          f"(logits span {reference.min().item():.2f}..{reference.max().item():.2f}); same argmax at {same:.0%} of positions")
    per_round = [i["ms_per_token"] / f["ms_per_token"] for f, i in zip(results["fp32"], results["int8"])]
    print(f"per-round ms/token ratios: min {min(per_round):.3f}, median {statistics.median(per_round):.3f}, "
          f"max {max(per_round):.3f}")


if __name__ == "__main__":
    main()
