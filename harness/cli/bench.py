"""`python -m harness bench`: latency, memory, energy and quality of versions, at full precision and quantized.

    python -m harness bench --versions base,3.4,3.6 --prompts-file prompts.txt
    python -m harness bench --versions 3.4 --variants fp32,int8,bf16 --max-new-tokens 64 --repeats 5
    python -m harness bench --versions 3.4 --eval-file Val.txt --show-outputs --format markdown

Variants: fp32, int8 (torch dynamic quantization of the Linear layers; GPT-2's Conv1D converted first),
bf16, fp16 (CUDA only), adapter (a LoRA version unmerged; the others merge it). Default: fp32,int8, plus
adapter for LoRA versions. Greedy by default, with the same seed and prompts for every row. The results are
appended to each version's log as a `bench` section (--no-record: don't), for `harness table --columns
version,ms_per_token,int8_ms_per_token`.
"""

import sys
from pathlib import Path

from harness.cli.generate import add_sampling_arguments, read_prompts, versions_command
from harness.cli.table import FORMATS, print_table
from harness.errors import UserError
from harness.train import sampling as sampler


def register(subparsers) -> None:
    parser = versions_command(subparsers, "bench", "latency, size, memory, energy and quality per version and precision",
                              __doc__)
    parser.add_argument("--variants", metavar="A,B,...",
                        help="fp32, int8, bf16, fp16, adapter (default: fp32,int8 and adapter for LoRA versions)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over the prompts (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed generations first (default 1)")
    parser.add_argument("--eval-file", help="a text file to measure eval_loss on (default: the run's own "
                                             "evaluation blocks, re-made from its log)")
    parser.add_argument("--max-eval-blocks", type=int, metavar="N", help="evaluate on at most N blocks")
    parser.add_argument("--no-eval", dest="quality", action="store_false", help="skip eval_loss/perplexity")
    parser.add_argument("--show-outputs", action="store_true", help="print the generations side by side too")
    parser.add_argument("--no-record", dest="record", action="store_false",
                        help="do not append the results to the versions' logs")
    parser.add_argument("--base", metavar="VERSION_OR_PATH", help="what `base` means (default: the versions' root)")
    parser.add_argument("--logs-dir", default="logs", type=Path, help="where the run logs are (default: logs)")
    parser.add_argument("--format", choices=FORMATS, default="rich", help="output format (default: rich)")
    add_sampling_arguments(parser, do_sample=False)
    parser.set_defaults(func=run, max_new_tokens=32)


def run(args) -> int:
    from harness.rerun import bench, generate
    from harness.runlog.reader import read_log
    from harness.train.sampling import Sampling

    if args.show_outputs and args.format not in ("rich", "markdown", "json"):
        raise UserError(f"--show-outputs goes with --format rich, markdown or json, not {args.format}")
    variants = bench.parse_variants(args.variants)
    prompts = read_prompts(args.prompt, args.prompts_file) or list(bench.DEFAULT_PROMPTS)
    sampling = Sampling(do_sample=args.do_sample, temperature=args.temperature, top_p=args.top_p, top_k=args.top_k,
                        max_new_tokens=args.max_new_tokens, seed=args.seed, template=args.template or "none")
    settings = bench.Settings(sampling=sampling, repeats=args.repeats, warmup=args.warmup, eval_file=args.eval_file,
                              max_eval_blocks=args.max_eval_blocks, quality=args.quality).checked()
    sources = generate.resolve_sources(generate.split_specs(args.versions), args.logs_dir, base=args.base)
    paths = bench.version_logs(sources, args.logs_dir)
    if args.record:
        bench.check_not_running(paths)
    rows, notes = bench.run(sources, variants, prompts, settings, {v: read_log(p) for v, p in paths.items()})
    notes.insert(0, settings.describe(len(prompts)))
    if args.record:
        for path in bench.record(rows, paths, settings, prompts):
            print(f"bench: results appended to {path} (section `bench`)", file=sys.stderr)
    table = bench.table(rows, notes)
    if args.format == "json":  # one document: the table, and the generations when asked for
        _print_json(table, rows if args.show_outputs else None)
        return 0
    print_table(table, args.format)
    if args.show_outputs:
        _print_outputs(rows, args.format, sampling.describe())
    return 0


def _print_json(table, rows) -> None:
    import json

    from harness.compare.formats import render

    document = json.loads(render(table, "json"))
    if rows is not None:
        document["outputs"] = _output_records(rows)
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _output_records(rows) -> list[dict]:
    return [{"version": f"{row.version} {row.variant}", **out} for row in rows for out in row.outputs]


def _print_outputs(rows, fmt: str, caption: str) -> None:
    """One column per (version, variant): where quantization changed an answer, the columns differ."""

    records = _output_records(rows)
    if fmt == "markdown":
        sys.stdout.write("\n" + sampler.render_markdown(records, caption))
    else:
        sampler.print_rich(records, caption)
