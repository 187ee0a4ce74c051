"""`python -m harness generate`: the same prompts through several versions, printed side by side.

    python -m harness generate --versions base,3.4,3.6 --prompt "Hey, how are you?"
    python -m harness generate --versions 3.4,outputs/3.6 --prompts-file prompts.txt --format markdown
    python -m harness generate --versions 3.4,3.6 --from-logs      # what the runs recorded; loads no model

`base` is the model the versions' chain of parents started from (or --base VERSION_OR_PATH).
"""

import argparse
import json
from pathlib import Path

from harness.errors import UserError
from harness.train import sampling as sampler
from harness.train.sampling import Sampling
from harness.train.templates import TEMPLATES

DEFAULTS = Sampling()


def versions_command(subparsers, name: str, help_text: str, doc: str):
    """A command over model versions and prompts (`generate`, `bench`): its parser, with what both take."""
    parser = subparsers.add_parser(name, help=help_text, description=doc,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--versions", action="append", required=True, metavar="V[,V...]",
                        help="versions from the logs, model directories, or `base`; comma-separated or repeated")
    parser.add_argument("--prompt", action="append", default=[], help="a prompt; repeat for several")
    parser.add_argument("--prompts-file", type=Path,
                        help="prompts, one per line; a .json file holds a list of strings (multi-line prompts)")
    return parser


def register(subparsers) -> None:
    parser = versions_command(subparsers, "generate", "sample the same prompts from several versions, side by side",
                              __doc__)
    parser.add_argument("--base", metavar="VERSION_OR_PATH",
                        help="what `base` means: a version, model directory or hub id (default: the versions' root)")
    parser.add_argument("--logs-dir", default="logs", type=Path, help="where the run logs are (default: logs)")
    parser.add_argument("--from-logs", action="store_true",
                        help="show the samples the versions' runs recorded (eval.prompts) instead of generating")
    parser.add_argument("--format", choices=("rich", "markdown", "json"), default="rich")
    add_sampling_arguments(parser)
    parser.set_defaults(func=run)


def add_sampling_arguments(parser, do_sample: bool = DEFAULTS.do_sample) -> None:
    """Shared with `harness bench`, which is greedy by default so that its rows' outputs are comparable."""
    group = parser.add_argument_group("sampling (the names and defaults of run_clm.py's eval.*)")
    group.add_argument("--do-sample", action=argparse.BooleanOptionalAction, default=do_sample,
                       help=("sample (default)" if do_sample else "sample (default: greedy)")
                       + " or, with --no-do-sample, take the most likely token")
    group.add_argument("--greedy", dest="do_sample", action="store_false", help="same as --no-do-sample")
    group.add_argument("--temperature", type=float, default=DEFAULTS.temperature)
    group.add_argument("--top-p", type=float, default=DEFAULTS.top_p)
    group.add_argument("--top-k", type=int, default=DEFAULTS.top_k)
    group.add_argument("--max-new-tokens", type=int, default=DEFAULTS.max_new_tokens)
    group.add_argument("--seed", type=int, default=DEFAULTS.seed,
                       help="set before every (version, prompt): the same seed gives the same text")
    group.add_argument("--template", choices=tuple(TEMPLATES), default=None,
                       help="wrap each prompt, e.g. instruction: ### Instruction: / ### Response: (default: the "
                            "template each version trained with, its data.template; none for other models)")


def run(args) -> int:
    from harness.rerun import generate

    specs = generate.split_specs(args.versions)
    prompts = read_prompts(args.prompt, args.prompts_file)
    sampling = Sampling(do_sample=args.do_sample, temperature=args.temperature, top_p=args.top_p,
                        top_k=args.top_k, max_new_tokens=args.max_new_tokens, seed=args.seed,
                        template=args.template or DEFAULTS.template).checked()
    if args.from_logs:
        records, settings = generate.samples_from_logs(specs, args.logs_dir, prompts), None
        caption = "recorded at the end of each run, with that run's eval settings"
    else:
        if not prompts:
            raise UserError("give at least one --prompt or a --prompts-file (or --from-logs)")
        sources = generate.resolve_sources(specs, args.logs_dir, base=args.base)
        records = generate.run_sources(sources, prompts, sampling, template_given=args.template is not None)
        caption, settings = sampling.describe(), sampling
        if args.template is None:
            caption = caption.replace("template none", "each version's own template")
    if args.format == "json":
        print(sampler.render_json(records, settings), end="")
    elif args.format == "markdown":
        print(sampler.render_markdown(records, caption), end="")
    else:
        sampler.print_rich(records, caption)
    return 0


def read_prompts(prompts: list[str], prompts_file: Path | None) -> list[str]:
    if prompts_file is None:
        return list(prompts)
    try:
        text = prompts_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read --prompts-file {prompts_file}: {exc}") from exc
    if prompts_file.suffix == ".json":
        return list(prompts) + _json_prompts(text, prompts_file)
    return list(prompts) + [line for line in text.splitlines() if line.strip()]


def _json_prompts(text: str, path: Path) -> list[str]:
    try:
        loaded = json.loads(text)
    except ValueError as exc:
        raise UserError(f"--prompts-file {path} is not valid JSON: {exc}") from exc
    if not isinstance(loaded, list) or not all(isinstance(p, str) for p in loaded):
        raise UserError(f"--prompts-file {path} must hold a JSON list of strings")
    return loaded
