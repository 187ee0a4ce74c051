import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from harness.train.hydra_job import quote_free_text, raw_values


@pytest.mark.parametrize("note", ["lr up: does it help in one epoch?", "it's a test", "back\\slash", "end\\",
                                  "ünï ${oops}", "a,b=c [d]", "c:\\dir\\${x}"])
def test_free_text_notes_survive_hydra_exactly(note):
    (override,) = quote_free_text([f"note={note}"])
    value = OverridesParser.create().parse_override(override).value()
    assert OmegaConf.to_container(OmegaConf.create({"note": value}), resolve=True)["note"] == note


def test_other_arguments_and_quoted_notes_are_untouched():
    argv = ["train.learning_rate=1e-4", "note='already quoted'", "-m", "version=3.10"]
    assert quote_free_text(argv) == argv


def test_raw_values_keep_version_text():
    assert raw_values(["version=3.10", "init_from='3.4'", "train.seed=1"]) == {"version": "3.10", "init_from": "3.4"}


@pytest.mark.parametrize("key, message", [
    ("train.lerning_rate", "train.lerning_rate is not a TrainingArguments field (did you mean train.learning_rate?)"),
    ("train.adam_beta2", "train.adam_beta2 is not in conf/train/default.yaml: add the TrainingArguments field with "
                         "+train.adam_beta2=..."),
    ("modle", "modle is not a known config key (did you mean model?)"),
    ("data.trian_file", "data.trian_file is not a known config key (did you mean data.train_file?)"),
])
def test_unknown_keys_say_what_was_meant(key, message):
    from harness.train.hydra_job import unknown_key_message

    assert unknown_key_message(key) == message


def test_sweep_jobs_are_the_cartesian_product_in_hydras_order():
    from harness.train.hydra_job import sweep_jobs

    jobs = sweep_jobs(["-m", "train.learning_rate=1e-3,1e-4", "+train.adam_beta2=0.9,0.95", "note='a, b'"])
    assert jobs == [["train.learning_rate=0.001", "+train.adam_beta2=0.9", "note='a, b'"],
                    ["train.learning_rate=0.001", "+train.adam_beta2=0.95", "note='a, b'"],
                    ["train.learning_rate=0.0001", "+train.adam_beta2=0.9", "note='a, b'"],
                    ["train.learning_rate=0.0001", "+train.adam_beta2=0.95", "note='a, b'"]]
