"""Several processes, one run: under `torchrun` or `accelerate launch`, rank 0 claims the version and
writes the log; the other ranks learn the version from it and write nothing.

The process group is set up here, before TrainingArguments would do it, because the version has to be
agreed on before anything else happens (gloo on CPU, nccl on CUDA). One process: every function is a no-op.
"""

import contextlib
import os
from pathlib import Path

from harness import versions
from harness.errors import UserError


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def is_main() -> bool:
    return rank() == 0


def ensure_initialized() -> bool:
    """True when this is a multi-process run (and the process group is now up)."""
    if world_size() <= 1:
        return False
    import torch.distributed as dist

    if not dist.is_initialized():
        import torch

        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return True


def shutdown() -> None:
    """Wait for every rank, then close the group: a rank exiting while gloo still talks aborts the run."""
    import torch.distributed as dist

    if world_size() > 1 and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def trainer_defaults() -> dict:
    """TrainingArguments defaults for a multi-process run; the train group still overrides them."""
    if world_size() <= 1:
        return {}
    # Trainer asks DDP to search for unused parameters unless checkpointing; a causal LM has none, and the
    # search costs a graph traversal every step.
    return {"ddp_find_unused_parameters": False}


def barrier() -> None:
    if ensure_initialized():
        import torch.distributed as dist

        dist.barrier()


def claim(logs_dir, version=None) -> tuple[str, Path]:
    """versions.claim on rank 0; every rank returns its (version, log path), or raises its UserError."""
    if not ensure_initialized():
        return versions.claim(logs_dir, version)
    import torch.distributed as dist

    result = [None]
    if is_main():
        try:
            result[0] = versions.claim(logs_dir, version)
        except UserError as exc:
            result[0] = exc
    dist.broadcast_object_list(result, src=0)
    if isinstance(result[0], UserError):
        raise result[0]
    claimed_version, path = result[0]
    return claimed_version, Path(path)


def agreed(step):
    """step() on every rank; when it refuses (UserError) on any rank, every rank refuses with the first message.

    Some checks can fail on one rank only (rank 0 alone takes a resumed log's lock): without this the others
    would go on to the next collective and wait there for the gloo/nccl timeout (30 minutes) for a rank that
    has already exited."""
    if not ensure_initialized():
        return step()
    import torch.distributed as dist

    result, problem = None, None
    try:
        result = step()
    except UserError as exc:
        problem = exc
    said: list = [None] * world_size()
    dist.all_gather_object(said, None if problem is None else str(problem))
    first = next((message for message in said if message), None)
    if first is None:
        return result
    # Every rank refuses here, together: the group is closed now. Left to the interpreter's exit, a rank whose
    # peer had already gone could abort in gloo's destructor (SIGABRT) instead of exiting with the user error.
    shutdown()
    raise problem if problem is not None else UserError(first)


@contextlib.contextmanager
def main_first():
    """Rank 0 runs the block first (trains the tokenizer, fills the data cache); then the others, from cache."""
    multi = ensure_initialized()
    if multi and not is_main():
        barrier()
    yield  # a failure on rank 0 skips the barrier: the launcher then stops the waiting ranks
    if multi and is_main():
        barrier()


class NullLog:
    """The run log of a rank other than 0: accepts every write and keeps nothing."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None
