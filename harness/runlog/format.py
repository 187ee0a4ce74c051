"""The run-log format's vocabulary (docs/LOG_FORMAT.md), shared by the writer and the reader."""

MAGIC = "#### run_clm.py log (format 1) ####"
MAGIC_PREFIX = "#### run_clm.py log (format"  # any format number: a newer writer's log is still read
STATUSES = ("running", "finished", "crashed", "interrupted")
ATTRIBUTES = ("version", "parent", "started", "status", "ended")  # fields where the last line wins
LISTS = {"command": "commands", "resumed": "resumed", "error": "errors", "warning": "warnings"}  # every line
DICT_SECTIONS = ("config", "environment", "data", "model", "summary", "bench")  # YAML mappings
