"""Plain-text data: check the files, fingerprint them, tokenize and pack into blocks the run_clm way.

Packed blocks are cached on disk under a key made of the files' sha256, the tokenizer's identity and the
packing settings, so a second run on the same inputs does not tokenize again and any edit to a file,
however small, does.
"""

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from harness.errors import UserError
from harness.train.config import DataConfig

CACHE_FORMAT = 2  # bump when tokenize/pack changes what a cached block holds
TEXT_SUFFIXES = {".txt": "text", ".text": "text", ".md": "text", ".json": "json", ".jsonl": "json", ".csv": "csv"}
SNIFF_BYTES = 64 * 1024


@dataclass
class DataFile:
    role: str
    path: str
    size: int
    sha256: str

    def record(self) -> dict:
        return {"role": self.role, "path": self.path, "size": self.size, "sha256": self.sha256}


@dataclass
class LMData:
    train: object
    eval: object | None
    files: list[DataFile]
    block_size: int
    from_cache: bool
    stats: dict = field(default_factory=dict)

    def record(self, tokenizer_id: str) -> dict:
        return {"files": [f.record() for f in self.files], "tokenizer": tokenizer_id,
                "block_size": self.block_size, **self.stats}


def group_texts(examples: dict, block_size: int) -> dict:
    """Concatenate every column and cut it into block_size chunks; the remainder is dropped."""
    concatenated = {k: list(chain(*examples[k])) for k in examples}
    total = len(concatenated["input_ids"]) // block_size * block_size
    result = {k: [t[i : i + block_size] for i in range(0, total, block_size)] for k, t in concatenated.items()}
    if "labels" not in examples:  # instruction records bring their own (the prompt masked with -100)
        result["labels"] = [ids.copy() for ids in result["input_ids"]]
    return result


def check_text_file(path: str, role: str) -> DataFile:
    """A readable, non-empty text file, or one clear UserError; returns its fingerprint."""
    p = Path(path).expanduser()
    if not p.exists():
        raise UserError(f"{role} file {path} does not exist")
    if p.is_dir():
        raise UserError(f"{role} file {path} is a directory; give a text file")
    if p.suffix.lower() not in TEXT_SUFFIXES:
        kinds = ", ".join(sorted(TEXT_SUFFIXES))
        raise UserError(f"{role} file {path} has an unsupported extension {p.suffix!r}: use one of {kinds}")
    with open(p, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head.strip():
        raise UserError(f"{role} file {path} is empty")
    if b"\x00" in head or not _decodes(head):
        raise UserError(f"{role} file {path} is not UTF-8 text (binary content near the start)")
    digest, bad_line = _fingerprint(p)
    if bad_line is not None:
        raise UserError(f"{role} file {path} is not UTF-8 text: line {bad_line} holds a byte that is not UTF-8 "
                        "(re-save the file as UTF-8, e.g. iconv -f latin1 -t utf-8)")
    return DataFile(role=role, path=str(p.resolve()), size=p.stat().st_size, sha256=digest)


def check_same_kind(files: list[DataFile]) -> None:
    """datasets reads every split with one builder: a .csv train file and a .txt validation file cannot mix."""
    kinds = {f.role: TEXT_SUFFIXES[Path(f.path).suffix.lower()] for f in files}
    if len(set(kinds.values())) > 1:
        shown = ", ".join(f"{role} is {Path(f.path).name} ({kinds[role]})" for role, f in ((f.role, f) for f in files))
        raise UserError(f"the data files must be of one kind ({shown}): convert one, or leave data.validation_file "
                        "empty to hold out part of the training file")


def _fingerprint(path: Path) -> tuple[str, int | None]:
    """(sha256, the first line that is not UTF-8 or None), in one streaming pass over the file.

    Remembered per (path, size, mtime) for the process: a resume checks the recorded files (changed_files),
    then fingerprints the same files for the new log; a multi-GB corpus is read once, not twice."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _FINGERPRINTS:
        if len(_FINGERPRINTS) > 64:
            _FINGERPRINTS.clear()
        _FINGERPRINTS[key] = _read_fingerprint(path)
    return _FINGERPRINTS[key]


_FINGERPRINTS: dict[tuple, tuple[str, int | None]] = {}


def _read_fingerprint(path: Path) -> tuple[str, int | None]:
    import codecs

    digest, decoder, lines, bad = hashlib.sha256(), codecs.getincrementaldecoder("utf-8")(), 0, None
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
            if bad is None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    bad = lines + chunk.count(b"\n", 0, max(exc.start, 0)) + 1
            lines += chunk.count(b"\n")
    if bad is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            bad = lines + 1
    return digest.hexdigest(), bad


def dataset_files(data_cfg: DataConfig, cache_dir) -> list[DataFile]:
    """data.dataset_name (HF `--dataset_name`): its train and validation splits, loaded through datasets (its
    cache, the hub, or a local dataset directory), written once as JSON lines into the cache.

    From there on a hub dataset is a data file like any other: fingerprinted by sha256 in the log, packed and
    cached the same way, held out `train[:N%]` when it has no validation split, as HF's run_clm.py does."""
    name, config = data_cfg.dataset_name, data_cfg.dataset_config_name
    raw = _load_hub_dataset(name, config)
    if "train" not in raw:
        raise UserError(f"dataset {name} has no train split (splits: {', '.join(raw)})")
    files = []
    for role in ("train", "validation"):
        if role in raw:
            # datasets' fingerprint of the split: the same data gives the same file, new data a new one.
            target = Path(cache_dir).expanduser() / "hub_datasets" / f"{raw[role]._fingerprint}-{role}.jsonl"
            if not target.is_file():
                _export_jsonl(raw[role], target)
            files.append(check_text_file(str(target), role))
    return files


def _load_hub_dataset(name: str, config: str | None):
    from datasets import load_dataset

    what = f"data.dataset_name={name}" + (f" data.dataset_config_name={config}" if config else "")
    if not Path(name).expanduser().exists():
        from harness.train import hub

        hub.settle()  # offline: datasets reads its cache at once instead of retrying the hub
    try:
        return load_dataset(name, config)
    except Exception as exc:  # not found, offline, no such config: many types, one message
        first = str(exc).strip().splitlines()
        raise UserError(f"{what}: cannot load it through datasets: {first[0] if first else type(exc).__name__}"
                        ) from exc


def _export_jsonl(dataset, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + f".tmp{os.getpid()}")
    dataset.to_json(str(partial), lines=True, force_ascii=False)
    os.replace(partial, target)


def _decodes(head: bytes) -> bool:
    # The sniffed prefix may end mid-character: allow an incomplete tail of up to 3 bytes.
    for cut in range(4):
        try:
            head[: len(head) - cut].decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False


def _load_files(load_dataset, builder: str, data_files: dict, kwargs: dict):
    """datasets' loader, with its failures (a broken JSON line, a missing column) as one line naming the file."""
    try:
        return load_dataset(builder, data_files=data_files, **kwargs)
    except Exception as exc:  # noqa: BLE001 - datasets wraps the parser's error; the root cause is what helps
        root = exc
        while root.__cause__ is not None or root.__context__ is not None:
            root = root.__cause__ or root.__context__
        detail = " ".join(str(root).split())[:300] or type(root).__name__
        raise UserError(f"cannot read {' and '.join(data_files.values())} as {builder}: {detail}") from None


def sha256_file(path) -> str:
    return _fingerprint(Path(path))[0]


def cache_key(files: list[DataFile], tokenizer_id: str, data_cfg: DataConfig) -> str:
    settings = {
        "format": CACHE_FORMAT,
        "files": [(f.role, f.sha256) for f in files],
        "tokenizer": tokenizer_id,
        "block_size": data_cfg.block_size,
        "text_column": data_cfg.text_column,
        "keep_linebreaks": data_cfg.keep_linebreaks,
        "validation_split_percentage": data_cfg.validation_split_percentage,
        "template": data_cfg.template,
        "train_on_response_only": data_cfg.train_on_response_only,
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:32]


def prepare(data_cfg: DataConfig, files: list[DataFile], tokenizer, tokenizer_id: str, cache_dir) -> LMData:
    """Packed train/eval blocks, from the cache when the same inputs were packed before."""
    from datasets import load_from_disk

    block_size = data_cfg.block_size
    target = Path(cache_dir).expanduser() / "datasets" / cache_key(files, tokenizer_id, data_cfg)
    from_cache = target.is_dir() and not data_cfg.overwrite_cache
    if not from_cache:
        _build(data_cfg, files, tokenizer, block_size, target)
    packed = load_from_disk(str(target))
    train, evaluation = packed["train"], packed["validation"] if "validation" in packed else None
    train = _limit(train, data_cfg.max_train_samples)
    evaluation = _limit(evaluation, data_cfg.max_eval_samples) if evaluation is not None else None
    stats = {"train_blocks": len(train), "eval_blocks": len(evaluation) if evaluation is not None else 0}
    if data_cfg.template != "none":
        stats.update(template=data_cfg.template, train_on_response_only=bool(data_cfg.train_on_response_only))
    return LMData(train, evaluation, files, block_size, from_cache, stats)


def _limit(dataset, limit):
    return dataset.select(range(min(limit, len(dataset)))) if limit else dataset


def _build(data_cfg: DataConfig, files, tokenizer, block_size, target: Path) -> None:
    raw = load_raw(data_cfg, files)
    tokenize = _tokenizer_for(data_cfg, raw["train"].column_names, tokenizer)
    workers = data_cfg.preprocessing_num_workers

    tokenized = raw.map(tokenize, batched=True, num_proc=workers, remove_columns=raw["train"].column_names,
                        desc="Tokenizing", load_from_cache_file=False)
    counts = {split: sum(len(ids) for ids in tokenized[split]["input_ids"]) for split in tokenized}
    packed = tokenized.map(group_texts, batched=True, num_proc=workers, fn_kwargs={"block_size": block_size},
                           desc=f"Packing into blocks of {block_size}", load_from_cache_file=False)
    if len(packed["train"]) == 0:
        tokens = counts["train"]
        raise UserError(
            f"train file {files[0].path} has {tokens} tokens, fewer than one block of block_size={block_size}; "
            f"use data.block_size={max(1, tokens // 2)} or less"
        )
    if "validation" in packed and len(packed["validation"]) == 0:
        del packed["validation"]  # shorter than one block: the run goes on without evaluation
    partial = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    packed.save_to_disk(str(partial))
    (partial / "token_counts.json").write_text(json.dumps(counts))
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)  # a crash mid-write leaves only a .tmp directory, never a half cache


def held_out_rows(rows: int, percent: float) -> int:
    """How many of `rows` HF's run_clm.py holds out as `train[:N%]`: datasets' own rounding (to the closest
    row, so 5% of 11,452 is 573, where int() would give 572)."""
    from datasets import ReadInstruction

    if percent <= 0 or rows == 0:
        return 0
    (instruction,) = ReadInstruction("train", to=percent, unit="%").to_absolute({"train": rows})
    return instruction.to


def _tokenizer_for(data_cfg: DataConfig, columns: list[str], tokenizer):
    """The batch function for datasets.map: a text column as it is, or records through a template."""
    from harness.train.templates import check_columns, tokenize_records

    template = data_cfg.template
    if template != "none":
        check_columns(template, columns)
        response_only = bool(data_cfg.train_on_response_only)
        return lambda batch: tokenize_records(batch, tokenizer, response_only)
    if data_cfg.train_on_response_only:
        raise UserError("data.train_on_response_only=true needs instruction records: set data.template=alpaca")
    column = data_cfg.text_column or ("text" if "text" in columns else columns[0])  # null: HF run_clm.py's rule
    if column not in columns:
        raise UserError(f"train file has no column {column!r} (columns: {', '.join(columns)})")
    return lambda batch: tokenizer(batch[column], verbose=False)


def load_raw(data_cfg: DataConfig, files: list[DataFile]):
    """A DatasetDict with train and, when there is one, validation rows of raw text."""
    from datasets import DatasetDict, load_dataset

    by_role = {f.role: f for f in files}
    builder = TEXT_SUFFIXES[Path(by_role["train"].path).suffix.lower()]
    if builder == "text" and data_cfg.template != "none":
        raise UserError(f"data.template={data_cfg.template} reads records: give a .json, .jsonl or .csv train "
                        f"file with instruction/input/output fields, not {Path(by_role['train'].path).name}")
    kwargs = {"keep_linebreaks": data_cfg.keep_linebreaks} if builder == "text" else {}
    data_files = {"train": by_role["train"].path}
    if "validation" in by_role:
        data_files["validation"] = by_role["validation"].path
    raw = _load_files(load_dataset, builder, data_files, kwargs)
    if "validation" in raw:
        return raw
    rows = len(raw["train"])
    held_out = held_out_rows(rows, data_cfg.validation_split_percentage)
    if held_out == 0:
        return DatasetDict(train=raw["train"])
    # The first rows are held out, as run_clm's `train[:N%]` split does.
    return DatasetDict(train=raw["train"].select(range(held_out, rows)),
                       validation=raw["train"].select(range(held_out)))


def changed_files(recorded) -> list[str]:
    """What changed in the data files a log's `data` section recorded: one line per file gone or edited.

    Resume and reproduce both refuse on these (the tokenizer trained on the text, the packed blocks and the
    data position in the checkpoint all assume the same bytes). The section comes from a log: any shape."""
    records = recorded.get("files") if isinstance(recorded, dict) else None
    problems = []
    for record in records if isinstance(records, list) else []:
        if not isinstance(record, dict) or not record.get("path") or not record.get("sha256"):
            problems.append(f"a recorded data file entry is unreadable: {str(record)[:80]}")
            continue
        path, role, before = Path(str(record["path"])), record.get("role", "data"), str(record["sha256"])
        if not path.is_file():
            problems.append(f"{role} file {path} is gone")
        elif (now := sha256_file(path)) != before:
            problems.append(f"{role} file {path} changed since the run (sha256 was {before[:12]}..., now {now[:12]}...)")
    return problems
