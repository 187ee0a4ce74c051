"""What Hydra knows about the job (its overrides, sweep position) and its errors, in our terms."""

import re
import shlex

from harness.train.pipeline import Job

RAW_KEYS = ("version", "init_from", "resume")
FREE_TEXT_KEYS = ("note", "+note")


def quote_free_text(argv: list[str]) -> list[str]:
    """`note=lr up: does it help?` as typed in a shell: quote it for Hydra, which would refuse the `:` and `?`.

    Already-quoted values are left alone; `${` is escaped so a note is never an interpolation."""
    out = []
    for arg in argv:
        key, sep, value = arg.partition("=")
        if sep and key in FREE_TEXT_KEYS and not value.startswith(("'", '"')):
            value = re.sub(r"(\\+)(?='|\$\{|$)", lambda m: m.group(1) * 2, value)
            arg = f"{key}='" + value.replace("'", "\\'").replace("${", "\\${") + "'"
        out.append(arg)
    return out


def job_from_hydra(argv: list[str]) -> Job:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from harness.train.sweep import log_fields

    hydra_cfg = HydraConfig.get()
    overrides = list(hydra_cfg.overrides.task)
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    job = Job(
        command=" ".join(["python run_clm.py", *map(shlex.quote, overrides)]),
        raw=raw_values(overrides),
        overrides=overrides,
        multirun=multirun,
        job_num=hydra_cfg.job.num if multirun else None,
        version_swept=any(a.startswith("version=") and "," in a for a in argv[1:]),
        sweep_command=" ".join(["python run_clm.py", *map(shlex.quote, argv[1:])]) if multirun else None,
        sweep_fields=log_fields(hydra_cfg) if multirun else {},
    )
    return job


def raw_values(overrides: list[str]) -> dict:
    """The text typed for version-like keys: Hydra would read `version=3.10` as the float 3.1."""
    raw = {}
    for override in overrides:
        key, _, value = override.partition("=")
        key = key.lstrip("+~")
        if key in RAW_KEYS and value:
            raw[key] = value.strip("'\"")
    return raw


def config_error_message(exc: BaseException) -> str | None:
    """One line for a Hydra/OmegaConf error about the user's overrides; None for anything else."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    if not isinstance(exc, (HydraException, OmegaConfBaseException)):
        return None
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    head = lines[0] if lines else type(exc).__name__
    if match := re.match(r"LexerNoViableAltException: (\S+?)=(.*)", head):
        key, value = match.groups()
        return (f"cannot read the override {key}={value}: Hydra's grammar allows only plain ASCII unquoted; "
                f"quote the value: {key}='{value}'")
    if match := re.match(r"Could not override '([^']+)'", head):
        return unknown_key_message(match.group(1))
    if "Available options in" in str(exc):  # a group option that has no file: list the ones that exist
        at = next(i for i, line in enumerate(lines) if line.startswith("Available options in"))
        options = [line for line in lines[at + 1 :] if not line.startswith(("Config search path", "provider="))]
        return f"{head}; available: {', '.join(options)}"
    cause = exc.__cause__
    if isinstance(cause, OmegaConfBaseException):
        cause_lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
        head += f" ({cause_lines[0]})" if cause_lines else ""
    return head


def unknown_key_message(key: str) -> str:
    """`train.lerning_rate=...`: say whether it is a TrainingArguments field and what was probably meant."""
    import difflib

    from harness.train.config import SCHEMA, training_argument_types

    group, _, name = key.rpartition(".")
    if group == "train":
        fields = training_argument_types()
        if name in fields:
            return f"train.{name} is not in conf/train/default.yaml: add the TrainingArguments field with +{key}=..."
        close = difflib.get_close_matches(name, list(fields), n=1)
        return f"{key} is not a TrainingArguments field{f' (did you mean train.{close[0]}?)' if close else ''}"
    known = SCHEMA
    for part in filter(None, group.split(".")):
        known = known.get(part, {}) if isinstance(known, dict) else {}
    candidates = list(known) if isinstance(known, dict) else []
    if not group:
        candidates.append("train")  # validated against TrainingArguments, so not in SCHEMA
    close = difflib.get_close_matches(name, candidates, n=1)
    hint = f" (did you mean {'.'.join(filter(None, [group, close[0]]))}?)" if close else ""
    return f"{key} is not a known config key{hint}"


def sweep_jobs(argv: list[str]) -> list[list[str]]:
    """The override list of every job a `-m` command line runs (Hydra's basic sweeper: the cartesian product)."""
    import itertools

    from hydra.core.override_parser.overrides_parser import OverridesParser

    args = [a for a in argv if "=" in a and not a.startswith("-") and not a.startswith("hydra.")]
    choices = []
    for override in OverridesParser.create().parse_overrides(args):
        if override.is_sweep_override():
            key = override.get_key_element()
            choices.append([f"{key}={value}" for value in override.sweep_string_iterator()])
        else:
            choices.append([override.input_line])
    return [list(job) for job in itertools.product(*choices)]


def validate_sweep(argv: list[str], config_dir) -> None:
    """Before a sweep's first job trains, compose and validate every job; one UserError names each bad one."""
    from hydra import compose, initialize_config_dir

    from harness.errors import UserError
    from harness.train.config import validate

    if not any(a in ("-m", "--multirun") for a in argv):
        return
    try:
        jobs = sweep_jobs(argv)
    except Exception:  # noqa: BLE001 - syntax Hydra itself will report in its own words
        return
    problems = []
    with initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
        for number, job in enumerate(jobs):
            try:
                validate(compose("config", overrides=job))
            except UserError as exc:
                problems.append(f"job {number} ({' '.join(job)}): {str(exc).removeprefix('bad config: ')}")
            except Exception as exc:  # noqa: BLE001 - composition errors: the same one line as for one run
                message = config_error_message(exc)
                if message is None:
                    raise
                problems.append(f"job {number}: {message}")
    if problems:
        raise UserError(f"sweep of {len(jobs)} jobs, none started: " + "; ".join(problems))
