"""Line-level readers (harness/runlog/trainer_text.py), command lines (harness/compare/cmdline.py), and the YAML
subset reader (harness/runlog/fastyaml.py) against the libraries they stand in for."""

import ast
import math

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.compare import cmdline
from harness.runlog import fastyaml
from harness.runlog.trainer_text import find_periodic, parse_dict_literal, parse_metric_value, to_number

# No example database: tests must not write into the repository.
FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("line, expected", [
    ("{'loss': 2.5111, 'grad_norm': 1.13, 'learning_rate': 8.77e-05, 'epoch': 0.37}",
     {"loss": 2.5111, "grad_norm": 1.13, "learning_rate": 8.77e-05, "epoch": 0.37}),
    ("{'loss': '7.403', 'grad_norm': '1.597', 'learning_rate': '0.0004083', 'epoch': '0.1176'}",
     {"loss": 7.403, "grad_norm": 1.597, "learning_rate": 0.0004083, "epoch": 0.1176}),
    (" 3%|▎ | 10/354 [00:06<03:20,  1.71it/s]{'loss': 2.0, 'step': 10}", {"loss": 2.0, "step": 10}),
    ("bar\r 1%| | 2/9 [00:01<00:03, 1.6it/s]\r{'loss': 1.5}\r 5%| | 3/9", {"loss": 1.5}),
    ("{'eval_loss': 1.0, 'name': 'x', 'flag': True, 'none': None}",
     {"eval_loss": 1.0, "name": "x", "flag": True, "none": None}),
    ('{"loss": 1, "tags": ["a", "b"]}', {"loss": 1, "tags": ["a", "b"]}),  # not flat: ast.literal_eval
])
def test_find_periodic(line, expected):
    assert find_periodic(line)[0] == expected


def test_periodic_nan_inf_and_refusals():
    found = parse_dict_literal("{'loss': nan, 'grad_norm': inf, 'x': -inf}")
    assert math.isnan(found["loss"]) and found["grad_norm"] == math.inf and found["x"] == -math.inf
    for bad in ("{'loss': 1.0, 'epo", "{'loss': __import__('os')}", "{1: 2} + {}", "[1, 2]", "{" * 5000):
        assert parse_dict_literal(bad) is None
    assert find_periodic("no dict here") == (None, False)


@FAST
@given(st.dictionaries(st.text(st.characters(blacklist_characters="'\\\n\r", codec="utf-8"), max_size=8),
                       st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans(), st.none(),
                                 st.text(st.characters(blacklist_characters="'\\\n\r", codec="utf-8"), max_size=8)),
                       max_size=6))
def test_dict_literal_agrees_with_ast(d):
    text = repr(d)
    expected = ast.literal_eval(text)
    expected = {k: (to_number(v) if isinstance(v, str) and v == v.strip() and to_number(v) is not None else v)
                for k, v in expected.items()}
    assert repr(parse_dict_literal(text)) == repr(expected)  # repr: nan equals nan


@pytest.mark.parametrize("text, value", [
    ("0:03:21.77", 201.77), ("1 day, 0:00:01.50", 86401.5), ("1084GF", 1084), ("512MB", 512),
    ("3.0", 3.0), ("940", 940), ("nan", None), ("abc", "abc"),
])
def test_metric_values(text, value):
    got = parse_metric_value(text)
    if value is None:
        assert math.isnan(got)
    else:
        assert got == pytest.approx(value) if isinstance(value, float) else got == value


def test_command_lines():
    args = cmdline.parse_args('python run_clm.py --model_name_or_path "finetuned_model_v2.6" --learning_rate 3e-5 '
                              "--num_train_epochs=2 --fp16 --do_train --per_device_train_batch_size 4 "
                              "--gradient_accumulation_steps 2")
    assert args == {"model_name_or_path": "finetuned_model_v2.6", "learning_rate": 3e-5, "num_train_epochs": 2,
                    "fp16": True, "do_train": True, "per_device_train_batch_size": 4,
                    "gradient_accumulation_steps": 2}
    hp = cmdline.canonical(args)
    assert hp["model"] == "finetuned_model_v2.6" and hp["precision"] == "fp16" and hp["num_train_epochs"] == 2
    hydra = cmdline.parse_args("python run_clm.py train.learning_rate=1e-4 init_from=3.4 +train.bf16=true")
    assert hydra == {"train.learning_rate": 1e-4, "init_from": 3.4, "train.bf16": True}
    assert cmdline.canonical(hydra) == {"learning_rate": 1e-4, "init_from": 3.4, "precision": "bf16"}
    assert cmdline.parse_args("python run_clm.py --fp16 False")["fp16"] is False
    assert cmdline.split("python x.py --a 'unbalanced") == ["python", "x.py", "--a", "'unbalanced"]
    assert cmdline.looks_like_command("!python run_clm.py --a 1")
    assert cmdline.looks_like_command("$ accelerate launch run_clm.py")
    assert not cmdline.looks_like_command("I ran run_clm later")


# ---- the YAML subset gives what yaml.safe_load gives ----

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, width=32),
    st.text(max_size=12),
    st.sampled_from(["yes", "No", "on", "1e-06", "1.0e-06", "3.11.7", "2.13.0+cpu", "0x1f", "017", "1:30",
                     "2026-11-24", ".inf", "-.inf", ".nan", "~", "null", "- x", "a: b", "#c", "'q'", "<<", "=",
                     "gpt2@sha256:4e07", "", " lead", "trail ", "x #y", "[1]", "{}", "-", "?", "a:"]),
)
_keys = st.one_of(st.text(st.characters(codec="ascii"), min_size=1, max_size=8),
                  st.sampled_from(["yes", "1", "null", "a b", "x.y", "-k"]))
_trees = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(_keys, inner, max_size=4)), max_leaves=12)


def _same(a, b):
    return repr(a) == repr(b)  # nan == nan, and 1 != 1.0 != True


@FAST
@given(_trees, st.integers(0, 4))
def test_fastyaml_matches_pyyaml_on_dumped_documents(tree, indent):
    text = yaml.safe_dump(tree, default_flow_style=False, allow_unicode=True, sort_keys=False)
    text = "\n".join(" " * indent + line if line else line for line in text.split("\n"))
    assert _same(fastyaml.load(text), yaml.safe_load(text))


_LINES = st.lists(st.one_of(
    st.sampled_from(["a: 1", "  b: x", "- c", "  - d: 2", "e:", "    f: 'g'", "- ", "h: [1, 2]", "i: |",
                     "  text", "j: &x 1", "k: *x", "\tl: 1", "m: \"n\"", "o: 'p''q'", "r: s: t", "---", "u: 1.5e+3"]),
    st.text(max_size=10)), max_size=10)


@pytest.mark.parametrize("space", ["\xa0", "\u1680", "\u2000", "\u200a", "\u202f", "\u205f", "\u3000"])
@pytest.mark.parametrize("template", ["{}", "a: {}", "{}a", "a: b{}", "- {}x"])
def test_fastyaml_reads_unicode_spaces_as_yaml_does(space, template):
    """Text to YAML, whitespace to Python's split() and `\\s` (hypothesis found `\\xa0` read as nothing)."""
    text = template.format(space)
    assert _same(fastyaml.load(text), yaml.safe_load(text))


@FAST
@given(_LINES)
def test_fastyaml_matches_pyyaml_on_any_text(lines):
    text = "\n".join(lines)
    try:
        expected = yaml.safe_load(text)
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text)):
            raise yaml.composer.ComposerError("aliases are refused")  # run logs never hold one
    except yaml.YAMLError:
        with pytest.raises(yaml.YAMLError):
            fastyaml.load(text)
        return
    assert _same(fastyaml.load(text), expected)


from hypothesis import given, settings
from hypothesis import strategies as st

from harness.runlog.trainer_text import parse_dict_literal as _parse_literal

_VALUES = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(),
                    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12), st.booleans())


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), _VALUES, max_size=6))
def test_any_repr_dict_reads_back_as_literal_eval_would(d):
    import ast
    import math

    expected = ast.literal_eval(repr(d))
    got = _parse_literal(repr(d))
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        # transformers 5.x prints numbers as strings: a numeric string may come back as its number
        if isinstance(value, str) and got[key] != value:
            number = float(value)  # 'NAN' comes back as nan, which equals nothing, itself included
            assert (math.isnan(number) and math.isnan(got[key])) or number == got[key]
        else:
            assert got[key] == value and type(got[key]) is type(value)


_JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(), st.integers(min_value=-10**30, max_value=10**30), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)),
    max_leaves=12)


@FAST
@given(_JSON_VALUES)
def test_json_loads_is_json_loads(value):
    """The fast decoder may only ever agree with the json module: big integers exact, NaN and inf tokens read."""
    import json

    from harness.runlog.trainer_text import json_loads

    text = json.dumps(value)
    assert _same(json_loads(text), json.loads(text))
    assert json.dumps(json_loads(text)) == text
