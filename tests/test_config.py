"""Config: validation names field, value and range; URL parameters fall back and round-trip."""
import dataclasses

import pytest

from dropviz import FIELDS, Config
from dropviz.config import FIELD


def bad_values(field):
    if field.choices:
        return ["bogus"]
    below, above = field.lo - 1, field.hi * 2 + 1
    values = [below, above, float("nan"), "3"]
    if field.kind is int:
        values.append(field.lo + 0.5)
    return values


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.name)
def test_every_bad_value_names_field_value_and_range(field):
    for value in bad_values(field):
        with pytest.raises(ValueError) as err:
            Config(**{field.name: value})
        message = str(err.value)
        assert message.startswith(f"{field.name}={value!r} ")
        assert field.allowed() in message


def test_allowed_ranges_read_naturally():
    assert FIELD["p"].allowed() == "a number from 0 to 0.95"
    assert FIELD["depth"].allowed() == "an integer from 1 to 8"
    assert FIELD["seed"].allowed() == "an integer from 0 to 2147483647"
    assert FIELD["activation"].allowed() == "one of relu, tanh"


@pytest.mark.parametrize("name", ["p", "input_p"])
def test_p_of_one_says_why(name):
    with pytest.raises(ValueError, match=rf"^{name}=1 is out of range: expected a number from 0 to 0.95") as err:
        Config(**{name: 1})
    assert "no neuron survives" in str(err.value) and "undefined" in str(err.value)


def test_valid_configs_are_normalised_and_frozen():
    cfg = Config(p=0, n_train=50.0, depth=3)
    assert cfg.p == 0.0 and isinstance(cfg.p, float)
    assert cfg.n_train == 50 and isinstance(cfg.n_train, int)
    assert cfg.keep == 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.p = 0.3
    assert cfg.replace(p=0.2).p == 0.2 and cfg.p == 0.0
    with pytest.raises(ValueError, match="p=0.99"):
        cfg.replace(p=0.99)


def test_digits_training_set_is_limited():
    with pytest.raises(ValueError, match="n_train=1500 is out of range for digits: expected an integer from 4 to 1300"):
        Config(dataset="digits", n_train=1500)
    assert Config(dataset="moons", n_train=1500).n_train == 1500


def test_fields_and_config_agree():
    assert [f.name for f in FIELDS] == [f.name for f in dataclasses.fields(Config)]
    defaults = Config()
    for f in FIELDS:
        assert getattr(defaults, f.name) == f.default, f.name


def test_from_query_falls_back_with_a_warning_naming_field_and_range():
    cfg, warnings = Config.from_query({"p": "1.5", "depth": "abc", "dataset": "unknown", "width": "64",
                                       "lr": ["0.5", "0.02"], "whatever": "1"})
    default = Config()
    assert (cfg.p, cfg.depth, cfg.dataset) == (default.p, default.depth, default.dataset)
    assert cfg.width == 64 and cfg.lr == 0.02  # good values kept; repeated parameter: the last valid one wins
    repeated = [w for w in warnings if w.startswith("lr was given")]
    assert repeated == ["lr was given 2 times ('0.5', '0.02'); using lr=0.02"]
    warnings = [w for w in warnings if w not in repeated]
    assert len(warnings) == 3
    by_field = {w.split("=")[0]: w for w in warnings}
    assert "a number from 0 to 0.95" in by_field["p"] and "1.5" in by_field["p"]
    assert "an integer from 1 to 8" in by_field["depth"] and "abc" in by_field["depth"]
    assert "one of moons, circles, xor, spiral, gaussian, digits" in by_field["dataset"]
    assert all("using the default" in w for w in warnings)


def test_from_query_checks_fields_against_each_other():
    cfg, warnings = Config.from_query({"dataset": "digits", "n_train": "2000"})
    assert cfg.dataset == "digits" and cfg.n_train == Config().n_train
    assert len(warnings) == 1 and warnings[0].startswith("n_train=2000")


def test_query_round_trip_is_exact():
    cfg = Config(dataset="spiral", n_train=123, noise=0.123456789, depth=5, width=17, activation="tanh",
                 p=0.35, input_p=0.1, mode="classic", optimizer="sgd", lr=0.0012345678, batch_size=7,
                 seed=2**31 - 1, data_seed=42)
    query = cfg.to_query()
    assert set(query) == {f.name for f in FIELDS} and all(isinstance(v, str) for v in query.values())
    assert query["p"] == "0.35" and query["n_train"] == "123" and query["input_p"] == "0.1"
    again, warnings = Config.from_query(query)
    assert again == cfg and warnings == []
    assert Config.from_query({}) == (Config(), [])
