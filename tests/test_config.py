from dataclasses import FrozenInstanceError, fields, replace

import pytest
import yaml

from harness.errors import UserError
from harness.train.config import PeftConfig, Request, RunConfig, validate
from tests.tiny import CONF


def yaml_file(path) -> dict:
    return yaml.safe_load(path.read_text()) or {}


def test_default_config_is_valid(compose):
    validate(compose(tiny=False))


@pytest.mark.parametrize("override, message", [
    ("train.learning_rate=abc", "train.learning_rate must be a number, got 'abc'"),
    ("train.learning_rate=-1e-4", "train.learning_rate must be >= 0"),
    ("+train.learing_rate=1e-4", "train.learing_rate is not a TrainingArguments field (did you mean learning_rate?)"),
    ("train.fp16=maybe", "train.fp16 must be true or false"),
    ("+train.output_dir=/tmp/x", "train.output_dir cannot be set"),
    ("data.block_size=0", "data.block_size must be > 0"),
    ("model.dtype=int8", "model.dtype must be one of auto, float32, float16, bfloat16"),
    ("+model.nme=x", "model.nme is not a known key"),
    ("eval.top_p=0", "eval.top_p must be in (0, 1]"),
    ("eval.top_p=1.5", "eval.top_p must be in (0, 1]"),
])
def test_bad_values_are_named(compose, override, message):
    with pytest.raises(UserError) as info:
        validate(compose(override))
    assert message in str(info.value)


def test_every_problem_is_reported_at_once(compose):
    with pytest.raises(UserError) as info:
        validate(compose("train.learning_rate=abc", "train.per_device_train_batch_size=0", "data.block_size=-3"))
    text = str(info.value)
    assert "\n" not in text
    for name in ("train.learning_rate", "train.per_device_train_batch_size", "data.block_size"):
        assert name in text


def test_any_training_arguments_field_can_be_added(compose):
    validate(compose("+train.adam_beta2=0.95", "+train.label_smoothing_factor=0.1", "+train.optim=adafactor"))


# ----- the typed config (RunConfig and its groups) -----

def _conf_options() -> list[tuple[str, dict]]:
    """(group, values) of every option file of the groups that are dataclasses (conf/<group>/*.yaml)."""
    import yaml

    return [(group, yaml.safe_load(path.read_text()) or {}) for group in ("model", "data", "peft", "eval")
            for path in sorted((CONF / group).glob("*.yaml"))]


def _composed(*overrides):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("config", overrides=list(overrides))


def test_dataclass_defaults_are_the_composed_defaults():
    """conf/*.yaml and the dataclasses say the same: RunConfig() is what `python run_clm.py` runs with."""
    composed = RunConfig.from_cfg(_composed())
    assert dict(composed.train) == yaml_file(CONF / "train" / "default.yaml")  # the open TrainingArguments group
    assert replace(RunConfig(), train=composed.train) == composed


@pytest.mark.parametrize("group, values", _conf_options(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_option_file_declares_only_known_keys(group, values):
    known = {f.name for f in fields(type(getattr(RunConfig(), group)))}
    assert set(values) <= known


def test_lora_defaults_are_lora_yaml():
    lora = yaml_file(CONF / "peft" / "lora.yaml")
    assert replace(PeftConfig(), method="lora").to_dict() == lora


@pytest.mark.parametrize("overrides", [
    (), ("peft=lora", "+preset=low_vram", "peft.target_modules=[c_attn]"),
    ("model=gpt2", "version=3.10", "+train.adam_beta2=0.9", "eval.prompts=[a,b]", "resume=true"),
    ("model=scratch", "data.validation_split_percentage=2.5", "data.block_size=null"),
])
def test_to_dict_is_the_composed_config_key_for_key_in_order(overrides):
    """What the log's config section records: the same keys, values and order as Hydra composed them."""
    from omegaconf import OmegaConf

    cfg = _composed(*overrides)
    expected = OmegaConf.to_container(cfg, resolve=True)
    recorded = RunConfig.from_cfg(cfg).to_dict()
    assert recorded == expected
    assert _key_order(recorded) == _key_order(expected)


def _key_order(value, prefix=""):
    if not isinstance(value, dict):
        return []
    return [f"{prefix}{k}" for k in value] + [o for k, v in value.items() for o in _key_order(v, f"{prefix}{k}.")]


def test_the_config_is_typed_and_frozen():
    cfg = RunConfig.from_cfg(_composed("eval.prompts=[hi]", "model=gpt2"))
    assert type(cfg.data.block_size) is int and cfg.model.name_or_path == "gpt2"
    assert cfg.eval.prompts == ("hi",) and cfg.peft.method == "none"
    assert RunConfig.from_cfg(_composed("data.block_size=null")).data.block_size is None
    with pytest.raises(FrozenInstanceError):
        cfg.data.block_size = 64
    with pytest.raises(TypeError):
        cfg.train["learning_rate"] = 1.0  # TrainingArguments kwargs: a run copies them (dict(cfg.train))
    with pytest.raises(TypeError):
        cfg.model.config_overrides["n_layer"] = 1


def test_unknown_keys_are_refused_with_a_guess():
    with pytest.raises(UserError) as info:
        RunConfig.from_cfg(_composed("+data.blok_size=3", "+verbos=true", "+peft.rank=4"))
    text = str(info.value)
    assert "data.blok_size is not a known key (did you mean block_size?)" in text
    assert "verbos is not a known key (did you mean verbose?)" in text
    assert "peft.rank is not a known key" in text


def test_from_cfg_reports_every_problem_at_once():
    with pytest.raises(UserError) as info:
        RunConfig.from_cfg(_composed("model.dtype=int8", "eval.top_k=-1", "peft.method=qlora", "+model.nme=x",
                                     "train.learning_rate=abc", "paths.logs_dir=null"))
    text = str(info.value)
    assert text.startswith("bad config: ") and "\n" not in text
    for message in ("model.dtype must be one of auto, float32, float16, bfloat16, got 'int8'",
                    "eval.top_k must be >= 0, got -1", "peft.method must be one of none, lora, got 'qlora'",
                    "model.nme is not a known key",
                    "train.learning_rate must be a number, got 'abc'", "paths.logs_dir must be a string, got None"):
        assert message in text


def test_version_names_are_the_text_typed_and_the_log_keeps_what_hydra_read():
    cfg = RunConfig.from_cfg(_composed("version=3.10", "init_from=2"), raw={"version": "3.10"})
    assert cfg.request == Request(version="3.10", init_from="2", resume=None)
    assert cfg.to_dict()["version"] == 3.1 and cfg.to_dict()["init_from"] == 2


def test_a_recorded_config_from_an_older_harness_takes_the_defaults_it_lacks():
    recorded = RunConfig().to_dict()
    del recorded["data"]["template"], recorded["verbose"]
    recorded["model"]["retired_key"] = 1
    cfg = RunConfig.from_record(recorded)
    assert cfg.data.template == "none" and cfg.verbose is False and "retired_key" not in cfg.model.to_dict()
