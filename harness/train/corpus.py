"""The embedded default corpus: Python's own documentation topics, present wherever Python is.

`pydoc_data.topics` ships with CPython (about 460 KB of English prose and code), so the default job
needs no download. It is written once to a file in the cache so that it is fingerprinted, tokenized
and cached exactly like a user's file.
"""

import os
from pathlib import Path

from harness.errors import UserError

NAME = "pydoc_topics.txt"


def default_corpus(cache_dir) -> str:
    try:
        from pydoc_data.topics import topics
    except ImportError as exc:  # some distributions strip it
        raise UserError("this Python has no pydoc_data module for the embedded corpus; set data.train_file=FILE") from exc
    text = "\n\n".join(topics[key].strip() for key in sorted(topics)) + "\n"
    path = Path(cache_dir).expanduser() / "corpus" / NAME
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{NAME}.tmp{os.getpid()}")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    return str(path)
