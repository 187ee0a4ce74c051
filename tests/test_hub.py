"""The hub probe: offline by environment without touching the network, or one short probe, never retries.

The endpoints are local sockets: one that refuses, one that accepts and never answers, one tiny HTTP server."""

import http.server
import socket
import threading

import pytest

from harness.errors import UserError
from harness.train import hub


@pytest.fixture
def online_env(monkeypatch):
    """As a user without HF_HUB_OFFLINE: the probe decides (its per-process memory cleared)."""
    for variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(variable, raising=False)
    hub._probe_once.cache_clear()
    yield monkeypatch
    hub._probe_once.cache_clear()


@pytest.fixture
def refusing_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # closed again: connecting is refused


@pytest.fixture
def silent_url():
    """Listens (the kernel completes the handshake) but never reads or answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def answering_url():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):  # noqa: N802 - http.server's naming
            self.send_response(404)  # any answer means the hub is there
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_offline_by_environment_never_probes(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub, "probe", lambda *a: pytest.fail("probed although HF_HUB_OFFLINE=1"))
    assert hub.offline_reason() == "HF_HUB_OFFLINE=1"


def test_refused_connection_is_offline(refusing_url):
    reason = hub.probe(refusing_url, timeout=1.0)
    assert reason.startswith(f"no answer from {refusing_url} within 1 s") and "ConnectionRefusedError" in reason


def test_endpoint_that_never_answers_is_offline_after_the_timeout(silent_url):
    reason = hub.probe(silent_url, timeout=0.2)
    assert reason.startswith(f"no answer from {silent_url} within 0.2 s")
    assert "timeout" in reason.lower()


def test_a_hung_name_lookup_is_bounded_too(monkeypatch):
    released = threading.Event()
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: released.wait() and [])  # a resolver that never replies
    try:
        assert hub.probe("https://hub.invalid", timeout=0.1) == (
            "no answer from https://hub.invalid within 0.1 s (name lookup hung)")
    finally:
        released.set()


def test_any_http_answer_is_online(answering_url):
    assert hub.probe(answering_url, timeout=2.0) is None


def test_probe_runs_once_per_process(online_env, answering_url):
    calls = []
    real = hub.probe
    online_env.setenv("HF_ENDPOINT", answering_url)
    online_env.setattr(hub, "probe", lambda *a: calls.append(a) or real(*a))
    assert hub.offline_reason() is None and hub.offline_reason() is None
    assert len(calls) == 1


def test_model_not_cached_and_hub_silent_is_one_line(online_env, silent_url, tmp_path):
    from transformers import AutoConfig

    from harness.train.config import ModelConfig
    from harness.train.modeling import load_pretrained

    online_env.setenv("HF_ENDPOINT", silent_url)
    online_env.setattr(hub, "PROBE_TIMEOUT_S", 0.2)
    online_env.setenv("HF_HOME", str(tmp_path / "empty-hf"))
    cfg = ModelConfig(revision="main", trust_remote_code=False, local_files_only=False)
    with pytest.raises(UserError, match=r"'nobody/tiny' is neither a local directory nor in the Hugging Face cache.*"
                                        r"the hub is out of reach \(no answer from http://127.0.0.1:\d+ within 0.2 s"):
        load_pretrained(AutoConfig, "nobody/tiny", cfg, "model config")


def test_local_files_only_says_how_to_download(online_env, tmp_path):
    from transformers import AutoConfig

    from harness.train.config import ModelConfig
    from harness.train.modeling import load_pretrained

    online_env.setattr(hub, "probe", lambda *a: pytest.fail("probed although local_files_only=true"))
    online_env.setenv("HF_HOME", str(tmp_path / "empty-hf"))
    cfg = ModelConfig(revision="main", trust_remote_code=False, local_files_only=True)
    with pytest.raises(UserError, match="model.local_files_only=false downloads it"):
        load_pretrained(AutoConfig, "nobody/tiny", cfg, "model config")
