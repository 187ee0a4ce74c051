"""Is the Hugging Face hub reachable? Decided once per process, in about a second, never by retrying.

A real user is online and expects `gpt2` to download on first use, as HF's run_clm.py does; a laptop on a
train, a cluster node without internet, or CI (HF_HUB_OFFLINE=1) is not, and must not sit through
huggingface_hub's retries before the one-line "not in the cache" error. So: HF_HUB_OFFLINE (or
TRANSFORMERS_OFFLINE) set means offline without touching the network; otherwise one HEAD request to the hub's
endpoint (HF_ENDPOINT, else https://huggingface.co) with a short timeout, and any HTTP answer means online.
"""

import functools
import os
from urllib.parse import urlsplit

PROBE_TIMEOUT_S = 1.5
TRUE = {"1", "true", "yes", "on"}


def endpoint() -> str:
    return os.environ.get("HF_ENDPOINT") or "https://huggingface.co"


def offline_reason() -> str | None:
    """Why the hub cannot be used now (a few words for an error message), or None when it answers."""
    for variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(variable, "").strip().lower() in TRUE:
            return f"{variable}={os.environ[variable]}"
    return _probe_once(endpoint(), PROBE_TIMEOUT_S)


def settle() -> str | None:
    """offline_reason(); when offline, huggingface_hub and datasets are told so for the rest of the process.

    transformers calls the hub even under local_files_only=True (3 s against an endpoint that never answers,
    measured with bench/bench_offline.py); in offline mode it does not."""
    reason = offline_reason()
    if reason:
        go_offline()
    return reason


def go_offline() -> None:
    """HF_HUB_OFFLINE=1 from now on: for this process's libraries (read once at their import) and its children."""
    import sys

    import huggingface_hub.constants

    os.environ["HF_HUB_OFFLINE"] = "1"
    huggingface_hub.constants.HF_HUB_OFFLINE = True
    if "datasets" in sys.modules:
        import datasets.config

        datasets.config.HF_HUB_OFFLINE = datasets.config.HF_DATASETS_OFFLINE = True


@functools.cache
def _probe_once(url: str, timeout: float) -> str | None:
    return probe(url, timeout)


def probe(url: str, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """None when `url` answers any HTTP response within `timeout` seconds, else what went wrong.

    The request runs in a daemon thread with a deadline: a name lookup ignores socket timeouts, and a
    resolver that does not answer would otherwise hold the run for its own retries."""
    import threading

    result = []
    worker = threading.Thread(target=lambda: result.append(_request(url, timeout)), daemon=True)
    worker.start()
    worker.join(timeout + 0.5)
    return result[0] if result else f"no answer from {url} within {timeout:g} s (name lookup hung)"


def _request(url: str, timeout: float) -> str | None:
    import http.client

    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = kind(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request("HEAD", parts.path or "/")
        connection.getresponse()
    except (OSError, http.client.HTTPException) as exc:  # refused, timed out, DNS, TLS, a garbled answer
        return f"no answer from {url} within {timeout:g} s ({type(exc).__name__})"
    finally:
        connection.close()
    return None
