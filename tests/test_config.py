import pytest

from harness.errors import UserError
from harness.train.config import validate


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
