"""One training run, top to bottom: validate, resolve, claim a version, set up, fit, save, finish.

`train(cfg, job)` is what run_clm.py calls; it returns the final metrics as a dict.
"""

import contextlib
import os
import signal
import socket
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from omegaconf import DictConfig

from harness import versions
from harness.errors import UserError, raise_interrupted
from harness.runlog.reader import read_log
from harness.runlog.writer import RunLog, now_iso
from harness.train import checkpoints, distributed, lora
from harness.train.config import RunConfig
from harness.train.corpus import default_corpus
from harness.train.data import changed_files, check_same_kind, check_text_file, prepare


@dataclass
class Job:
    """What the command line says beyond the resolved config."""

    command: str = "python run_clm.py"
    raw: dict = field(default_factory=dict)  # key -> override text as typed (Hydra reads 3.10 as 3.1)
    overrides: list = field(default_factory=list)
    multirun: bool = False
    job_num: int | None = None
    version_swept: bool = False
    sweep_command: str | None = None
    hf_command: str | None = None  # the HF run_clm.py-style line it was translated from (harness.train.hf_flags)
    sweep_fields: dict = field(default_factory=dict)  # sweep_dir, sweep_objective (harness/train/sweep.py)


@dataclass
class Plan:
    """Everything decided before any weights are loaded."""

    cfg: RunConfig  # on resume=<version>, the config its log recorded
    version: str | None
    log_path: Path | None = None
    output_dir: Path | None = None
    parent: str | None = None
    parent_epochs: float = 0.0
    model_source: str | None = None
    resume_checkpoint: Path | None = None
    files: list = field(default_factory=list)
    log: RunLog | None = None  # a resumed version's log, locked from the moment resume named it
    recorded_tokenizer: str | None = None  # a resumed version's tokenizer identity, to check against
    warnings: list = field(default_factory=list)  # decided while planning; said and logged at setup
    allow_changed_data: bool = False  # resume although the data or tokenizer differ (said in the log)


def train(cfg: DictConfig, job: Job | None = None) -> dict:
    job = job or Job()
    plan = resolve(cfg, job)
    if plan.cfg.plan:
        from harness.train.memplan import print_plan

        if plan.log is not None:
            plan.log.close()
        return print_plan(plan)
    session = claim_and_setup(plan, job)
    with lifecycle(session):
        metrics = fit(session)
        save(session)
        finish(session, metrics)
    distributed.shutdown()
    return {"version": session.plan.version, **metrics["train"], **metrics["eval"], **metrics["summary"]}


# ----- resolve: read what the command names, check it exists, load nothing heavy -----

def resolve(cfg: DictConfig, job: Job) -> Plan:
    run = RunConfig.from_cfg(cfg, job.raw)  # every problem in the config reported at once, before anything else
    if run.request.resume is not None:
        held: list[RunLog] = []
        try:  # every rank resumes, or none does (a refusal on rank 0 alone must not leave the others waiting)
            return distributed.agreed(lambda: _resolve_resume(run, job, held))
        except BaseException:
            for log in held:
                log.close()
            raise
    plan = Plan(cfg=run, version=_version_for(job, run))
    if run.request.init_from is not None:
        _resolve_init(plan, run.request.init_from)
    else:
        plan.model_source = run.model.name_or_path
    plan.files = data_files(run)
    return plan


def _version_for(job: Job, run: RunConfig) -> str | None:
    version = run.request.version
    if version is None:
        return None
    version = versions.check_name(version)
    if job.multirun and not job.version_swept:
        version = versions.check_name(f"{version}-{job.job_num}")
    return version


def _resume_target(run: RunConfig, job: Job) -> tuple[str, Path]:
    """(version, its log) that `resume=` names; the command line may add nothing but allow_changed_data."""
    resume = run.request.resume
    if resume == "true":
        resume = run.request.version
        if resume is None:
            raise UserError("resume=true needs version=<the version to continue>")
    else:
        extra = [o for o in job.overrides if o.split("=", 1)[0].lstrip("+~") not in ("resume", "allow_changed_data")]
        if extra:
            raise UserError(f"resume={resume} continues with the config recorded in its log; "
                            f"drop the other overrides ({' '.join(extra)})")
    version = versions.check_name(resume)
    path = versions.log_path(run.paths.logs_dir, version)
    if not path.is_file():
        raise UserError(f"cannot resume {version}: there is no log {path}")
    return version, path


def _resolve_resume(run: RunConfig, job: Job, held: list) -> Plan:
    version, path = _resume_target(run, job)
    # The lock comes first and stays until this process ends: a second resume of the same version,
    # however close behind, finds it taken before either has decided anything.
    if distributed.is_main():
        held.append(_lock_for_resume(version, path))
    log = read_log(path)
    status = log.fields.get("status")
    if status == "finished":
        raise UserError(f"version {version} already finished; start a new version with init_from={version}")
    recorded = log.sections.get("config")
    if not recorded or "output_dir" not in log.fields:
        raise UserError(f"cannot resume {version}: its log {path} has no recorded config or output_dir")
    cfg = RunConfig.from_record(recorded) if run.request.resume != "true" else run
    output_dir = Path(log.fields["output_dir"])
    checkpoint = checkpoints.newest_complete(output_dir)
    if checkpoint is None:
        raise UserError(f"cannot resume {version}: no complete checkpoint in {output_dir} "
                        "(it stopped before its first save); start it again under a new version")
    plan = Plan(cfg=cfg, version=version, log_path=path, output_dir=output_dir, resume_checkpoint=checkpoint,
                parent=log.parent, log=held[0] if held else None,
                recorded_tokenizer=(log.sections.get("data") or {}).get("tokenizer"))
    plan.allow_changed_data = run.allow_changed_data is True
    _check_same_data(plan, log)
    plan.model_source = (log.sections.get("model") or {}).get("init_weights") or cfg.model.name_or_path
    plan.parent_epochs = _parent_epochs(run.paths.logs_dir, plan.parent)
    plan.files = data_files(cfg)
    return plan


def _check_same_data(plan: Plan, log) -> None:
    """The checkpoint's weights, tokenizer and data position all assume the recorded bytes."""
    changed = changed_files(log.sections.get("data"))
    if not changed:
        return
    if not plan.allow_changed_data:
        more = f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""
        raise UserError(f"cannot resume {plan.version}: {changed[0]}{more}; put the recorded data back, start a "
                        f"new version with init_from, or add allow_changed_data=true to continue anyway (logged)")
    plan.warnings += [f"resumed with changed data (allow_changed_data=true): {problem}" for problem in changed]


def _lock_for_resume(version: str, path: Path) -> RunLog:
    try:
        return RunLog.append(path)
    except UserError:
        raise UserError(f"cannot resume {version}: it is still running (its log {path} is held by a live process)")
    except OSError as exc:
        raise UserError(f"cannot resume {version}: cannot open its log {path}: {exc.strerror or exc}") from None


def _resolve_init(plan: Plan, init_from: str) -> None:
    logs_dir = plan.cfg.paths.logs_dir
    store = versions.LogStore(logs_dir)
    if store.link(init_from).kind == versions.VERSION:
        log = store.log(init_from)
        status = log.fields.get("status")
        if status != "finished":
            raise UserError(f"cannot chain from version {init_from}: its status is {status or 'unknown'}, "
                            "so it has no final weights")
        weights = Path(log.fields.get("output_dir", ""))
        if not checkpoints.has_weights(weights):
            raise UserError(f"cannot chain from version {init_from}: its weights in {weights} were deleted")
        plan.parent, plan.model_source = init_from, str(weights)
        plan.parent_epochs = _cumulative_epochs(log)
        return
    path = Path(init_from).expanduser()
    if not path.is_dir():
        raise UserError(f"init_from={init_from} is neither a version in {logs_dir}/ nor a directory")
    if not checkpoints.has_weights(path):
        newest = checkpoints.newest_complete(path)
        if newest is None:
            raise UserError(f"init_from={init_from} holds no weights and no complete checkpoint")
        path = newest
    plan.parent, plan.model_source = str(path), str(path)


def _cumulative_epochs(log) -> float:
    return float((log.sections.get("summary") or {}).get("cumulative_epochs") or 0.0)


def _parent_epochs(logs_dir, parent: str | None) -> float:
    """Epochs along the chain before this version: its parent's cumulative epochs, when the parent is a version.

    Read from the parent, not from this run's own summary, which an interrupted run never wrote."""
    store = versions.LogStore(logs_dir)
    if parent is None or store.link(parent).kind != versions.VERSION:
        return 0.0
    return _cumulative_epochs(store.log(parent))


def data_files(cfg: RunConfig) -> list:
    data = cfg.data
    if data.dataset_name:
        from harness.train.data import dataset_files

        return dataset_files(data, cfg.paths.cache_dir)
    train_file = data.train_file or default_corpus(cfg.paths.cache_dir)
    files = [check_text_file(train_file, "train")]
    if data.validation_file:
        files.append(check_text_file(data.validation_file, "validation"))
    check_same_kind(files)
    return files


# ----- set up: claim the version, load tokenizer, model and data, build the Trainer -----

@dataclass
class Session:
    plan: Plan
    job: Job
    log: RunLog | None = None
    trainer: object = None
    data: object = None
    tokenizer_id: str = ""
    precision: str = ""
    warnings: list = field(default_factory=list)
    model_info: dict = field(default_factory=dict)


def claim_and_setup(plan: Plan, job: Job) -> Session:
    cfg = plan.cfg
    fresh = plan.resume_checkpoint is None
    session = Session(plan=plan, job=job, log=plan.log)
    for warning in plan.warnings:
        _warn(session.warnings, warning)
    if fresh:
        plan.version, plan.log_path = distributed.claim(cfg.paths.logs_dir, plan.version)
        plan.output_dir = Path(cfg.paths.output_root) / plan.version
    try:
        if fresh and distributed.is_main():
            session.log = RunLog.create(plan.log_path)  # locked from the claim until the process ends
        with distributed.main_first():
            _setup(session)
    except BaseException:
        # Nothing trained yet: leave no log or directory a later run could mistake for a result.
        if fresh and distributed.is_main():
            plan.log_path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                plan.output_dir.rmdir()
        if session.log is not None:
            session.log.close()
        raise
    _write_header(session, fresh)
    return session


def _setup(session: Session) -> None:
    from transformers import set_seed

    from harness.train.console import quiet_libraries
    from harness.train.environment import resolve_precision
    from harness.train.modeling import build_model, count_parameters, load_tokenizer, tokenizer_identity

    plan, cfg = session.plan, session.plan.cfg
    quiet_libraries(bool(cfg.verbose))
    train_cfg = dict(cfg.train)  # this run's copy: precision and eval_strategy may change below
    session.precision, precision_warnings = resolve_precision(train_cfg)
    for warning in precision_warnings:
        _warn(session.warnings, warning)
    train_paths = [f.path for f in plan.files if f.role == "train"]
    tokenizer, tokenizer_name = load_tokenizer(cfg.model, plan.model_source, train_paths, cfg.paths.cache_dir)
    session.tokenizer_id = tokenizer_identity(tokenizer, tokenizer_name)
    _check_same_tokenizer(session)
    set_seed(train_cfg["seed"])
    model = build_model(cfg.model, lora.base_source(plan.model_source), tokenizer,
                        "float32" if _trains_amp(train_cfg) else _dtype(cfg))
    model, peft_info = lora.attach(model, cfg, plan.model_source, plan.output_dir, session.warnings)
    data_cfg = replace(cfg.data, block_size=_block_size(cfg.data.block_size, model, tokenizer, session.warnings))
    session.data = prepare(data_cfg, plan.files, tokenizer, session.tokenizer_id, cfg.paths.cache_dir)
    session.model_info = {**count_parameters(model), "init_from": plan.parent, "init_weights": plan.model_source,
                          **peft_info}
    session.trainer = _build_trainer(session, model, tokenizer, train_cfg)


def _check_same_tokenizer(session: Session) -> None:
    plan = session.plan
    recorded = plan.recorded_tokenizer
    if recorded is None or recorded == session.tokenizer_id:
        return
    message = f"the tokenizer is not the one {plan.version} trained with ({recorded} then, {session.tokenizer_id} now)"
    if not plan.allow_changed_data:
        raise UserError(f"cannot resume {plan.version}: {message}; add allow_changed_data=true to continue anyway")
    _warn(session.warnings, f"resumed with {message}")


def _warn(warnings: list, message: str) -> None:
    """Said now on stderr, and kept for the log's `warning:` lines."""
    warnings.append(message)
    print(f"warning: {message}", file=sys.stderr)


def _trains_amp(train_cfg: dict) -> bool:
    return bool(train_cfg.get("fp16") or train_cfg.get("bf16"))


def _dtype(cfg: RunConfig) -> str:
    # Training keeps fp32 master weights; "auto" means fp32 here, never the checkpoint's fp16.
    dtype = cfg.model.dtype
    return "float32" if dtype == "auto" else dtype


def _block_size(requested, model, tokenizer, warnings: list) -> int:
    limit = getattr(model.config, "n_positions", None) or getattr(model.config, "max_position_embeddings", None)
    limit = limit or tokenizer.model_max_length
    if requested is None:
        return min(1024, limit)
    if requested > limit:
        _warn(warnings, f"data.block_size={requested} is longer than the model's maximum {limit}: using {limit}")
        return limit
    return requested


def _build_trainer(session: Session, model, tokenizer, train_cfg: dict):
    from transformers import Trainer, TrainingArguments, default_data_collator

    from harness.train import console
    from harness.train.callbacks import CheckpointCallback
    from harness.train.metrics import compute_metrics, preprocess_logits_for_metrics

    data = session.data
    if data.eval is None or len(data.eval) == 0:
        data.eval = None
        if train_cfg.get("eval_strategy", "no") != "no":
            _warn(session.warnings, "no evaluation data (no validation file and no held-out split): eval skipped")
            train_cfg["eval_strategy"] = "no"
    args = TrainingArguments(output_dir=str(session.plan.output_dir), disable_tqdm=True, **trainer_kwargs(train_cfg))
    checkpoint_callback = CheckpointCallback(session.plan.resume_checkpoint)
    trainer = Trainer(
        model=model, args=args, train_dataset=data.train, eval_dataset=data.eval, processing_class=tokenizer,
        data_collator=default_data_collator, compute_metrics=compute_metrics,
        preprocess_logits_for_metrics=preprocess_logits_for_metrics,
        callbacks=[checkpoint_callback],
    )
    checkpoint_callback.trainer = trainer
    console.install(trainer, session.plan.version, data.block_size, bool(session.plan.cfg.verbose))
    return trainer


# transformers 5 renamed these; users keep typing the names every tutorial uses.
RENAMED = {"gradient_checkpointing": "activation_checkpointing",
           "gradient_checkpointing_kwargs": "activation_checkpointing_kwargs"}


def trainer_kwargs(train_cfg: dict) -> dict:
    import torch

    kwargs = {**distributed.trainer_defaults(), **{RENAMED.get(k, k): v for k, v in train_cfg.items()}}
    if not torch.cuda.is_available():
        kwargs.setdefault("dataloader_pin_memory", False)
        # Without it TrainingArguments refuses bf16 on CPU, and a CPU multi-process run would not pick gloo.
        kwargs.setdefault("use_cpu", not torch.backends.mps.is_available())
    return kwargs


def _write_header(session: Session, fresh: bool) -> None:
    from harness.train.callbacks import RunLogCallback
    from harness.train.environment import describe

    plan, job = session.plan, session.job
    if not distributed.is_main():
        session.log = distributed.NullLog()
        return
    log = session.log = session.log or RunLog.append(plan.log_path)
    if fresh:
        log.fields({"version": plan.version, "parent": plan.parent, "started": now_iso(), "status": "running",
                    "host": socket.gethostname(), "pid": os.getpid()})
        log.field("note", plan.cfg.note)
        log.field("command", job.command)
        if job.sweep_command:
            log.field("sweep", job.sweep_command)
        if job.hf_command:
            log.field("hf_command", job.hf_command)
        log.fields(job.sweep_fields)
        log.fields({"output_dir": plan.output_dir, "seed": plan.cfg.train["seed"]})
    else:
        log.field("resumed", f"{now_iso()} from {plan.resume_checkpoint}")
        log.fields({"host": socket.gethostname(), "pid": os.getpid()})
        log.field("command", job.command)
        log.status("running")
    for warning in session.warnings:
        log.field("warning", warning)
    if fresh:
        log.section("config", plan.cfg.to_dict())
    log.section("environment", describe(session.precision, session.trainer.args.world_size))
    log.section("data", {**session.data.record(session.tokenizer_id), "from_cache": session.data.from_cache})
    log.section("model", session.model_info)
    log.section("training")
    session.trainer.add_callback(RunLogCallback(log))


# ----- fit, save, finish -----

def fit(session: Session) -> dict:
    from harness.train.environment import reset_peak_memory
    from harness.train.metrics import perplexity

    trainer, plan = session.trainer, session.plan
    reset_peak_memory()
    result = trainer.train(resume_from_checkpoint=str(plan.resume_checkpoint) if plan.resume_checkpoint else None)
    train_metrics = dict(result.metrics)
    if plan.resume_checkpoint is not None:
        # Trainer averages only the steps of this process; the restored sum covers the whole run.
        train_metrics["train_loss"] = trainer._total_loss_scalar / max(trainer.state.global_step, 0.001)
    train_metrics["train_samples"] = len(session.data.train)
    eval_metrics = {}
    # train.do_eval=false: HF's script evaluates only with --do_eval (see harness.train.hf_flags).
    if session.data.eval is not None and plan.cfg.train.get("do_eval") is not False:
        eval_metrics = _final_evaluation(trainer)
        eval_metrics["eval_samples"] = len(session.data.eval)
        eval_metrics["perplexity"] = perplexity(eval_metrics["eval_loss"])
    return {"train": train_metrics, "eval": eval_metrics}


def _final_evaluation(trainer) -> dict:
    """The evaluation Trainer already ran on the final weights (eval_strategy=epoch ends there), else a new one."""
    state = trainer.state
    last = next((entry for entry in reversed(state.log_history) if "eval_loss" in entry), {})
    if last.get("step") == state.global_step and not trainer.args.load_best_model_at_end:
        return {k: v for k, v in last.items() if k != "step"}
    return trainer.evaluate()


def save(session: Session) -> None:
    trainer, output_dir = session.trainer, session.plan.output_dir
    trainer.save_model(str(output_dir))
    trainer.save_state()
    if distributed.is_main():
        checkpoints.mark_complete(output_dir, step=trainer.state.global_step)
    lora.save_merged(trainer, session.plan.cfg, output_dir)


def finish(session: Session, metrics: dict) -> None:
    from harness.train.environment import peak_memory

    trainer, log, plan = session.trainer, session.log, session.plan
    for split in ("train", "eval"):
        if metrics[split]:
            trainer.log_metrics(split, metrics[split])
            trainer.save_metrics(split, metrics[split])
            log.metrics(split, metrics[split])
    epochs = float(metrics["train"].get("epoch", 0.0))
    summary = {**peak_memory(), "epochs": epochs, "parent_epochs": plan.parent_epochs,
               "cumulative_epochs": round(plan.parent_epochs + epochs, 6), "weights": str(plan.output_dir)}
    if plan.cfg.eval.prompts:
        from harness.train.sampling import record_samples

        record_samples(trainer, log, plan.cfg.eval, plan.version)
    log.section("summary", summary)
    log.field("ended", now_iso())
    log.status("finished")
    metrics.update(summary=summary)


@contextlib.contextmanager
def lifecycle(session: Session):
    """The log's status tells the truth whatever happens: finished, interrupted or crashed."""
    previous = signal.signal(signal.SIGTERM, raise_interrupted) if _main_thread() else None
    try:
        yield
    except KeyboardInterrupt:
        _last_words(session.log, {"ended": now_iso(), "status": "interrupted"})
        raise
    except BaseException as exc:
        message = str(exc).strip().splitlines()
        _last_words(session.log, {"error": f"{type(exc).__name__}: {message[0] if message else ''}",
                                  "ended": now_iso(), "status": "crashed"})
        raise
    finally:
        _close_display(session.trainer)
        session.log.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _last_words(log, fields: dict) -> None:
    """The closing status, when the disk still takes it (a full disk is often why we are here: the error that
    brought us must be the one reported, and the dead writer's free lock tells readers it stopped)."""
    with contextlib.suppress(OSError):
        log.fields(fields)

def _close_display(trainer) -> None:
    """A live progress bar left running by a crash would keep redrawing over the traceback."""
    from harness.train.console import ConsoleCallback

    for callback in trainer.callback_handler.callbacks if trainer is not None else ():
        if isinstance(callback, ConsoleCallback):
            callback.close()


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread() and os.name == "posix"
