import threading

import pytest

from harness import versions
from harness.errors import UserError


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".", "..", ".hidden", "x" * 65, "a b", "a\\b"])
def test_unsafe_names_are_refused(name):
    with pytest.raises(UserError, match="not a safe name"):
        versions.check_name(name)


@pytest.mark.parametrize("name", ["3.4", "3.4-r1", "v2", "exp_lr+1"])
def test_safe_names(name):
    assert versions.check_name(name) == name


def test_next_free_follows_the_highest_numeric_version(tmp_path):
    assert versions.next_free(tmp_path) == "1.0"
    for name in ("2.9", "2.10", "3.4-r1", "notes"):
        (tmp_path / f"{name}.log").write_text("")
    assert versions.next_free(tmp_path) == "2.11"


def test_claim_given_version_twice_is_refused(tmp_path):
    assert versions.claim(tmp_path, "3.4")[0] == "3.4"
    with pytest.raises(UserError, match="already exists.*resume=3.4"):
        versions.claim(tmp_path, "3.4")


def test_concurrent_claims_never_share_a_version(tmp_path):
    got, barrier = [], threading.Barrier(8)

    def claim():
        barrier.wait()
        got.append(versions.claim(tmp_path)[0])

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got, key=lambda v: tuple(map(int, v.split(".")))) == [f"1.{i}" for i in range(8)]
