"""The one reader of config files: TOML and YAML with the line of every value, and pydantic's errors reworded."""

from enum import StrEnum
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from bot.config_file import ConfigFileError, field_problems, read_config_file

TOML = """\
# a comment
name = "x"

[[items]]  # the first
colour = "red"

[[items]]
colour = "blue"

[limits]
max = 3
"""

YAML = """\
name: x
items:
  - colour: red
  - colour: blue
limits:
  max: 3
"""


@pytest.mark.parametrize(("name", "text"), [("c.toml", TOML), ("c.yaml", YAML)])
def test_every_value_has_its_line(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    file = read_config_file(path, what="test")
    assert file.source == str(path)
    assert file.data["items"][1]["colour"] == "blue"
    expected = (
        {"name": 2, "first": 4, "second": 7, "colour": 8, "max": 11}
        if name.endswith(".toml")
        else {"name": 1, "first": 3, "second": 4, "colour": 4, "max": 6}
    )
    assert file.line(("name",)) == expected["name"]
    assert file.line(("items", 0)) == expected["first"]
    assert file.line(("items", 1)) == expected["second"]
    assert file.line(("items", 1, "colour")) == expected["colour"]
    assert file.line(("limits", "max")) == expected["max"]


def test_a_yaml_key_written_twice_is_found_where_its_value_comes_from(tmp_path: Path) -> None:
    path = tmp_path / "c.yml"
    path.write_text("name: a\nname: b\n")
    file = read_config_file(path, what="test")
    assert file.data == {"name": "b"} and file.line(("name",)) == 2


class Special(ConfigFileError):
    pass


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("c.toml", "a = [", "c.toml: not valid TOML: "),
        ("c.yaml", "a: [", "c.yaml: not valid YAML: "),
        ("c.json", "{}", "c.json: use a .toml, .yaml or .yml file."),
        (None, "", "can't read the widget file (No such file or directory)."),
    ],
)
def test_unreadable_files_raise_the_callers_error(
    tmp_path: Path, name: str | None, text: str, message: str
) -> None:
    path = tmp_path / (name or "missing.toml")
    if name:
        path.write_text(text)
    with pytest.raises(Special) as info:
        read_config_file(path, what="widget", error=Special)
    assert message in str(info.value) and str(info.value).startswith(str(path))


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    colour: Colour
    size: int


def test_pydantic_errors_are_worded_for_the_person_who_wrote_the_file() -> None:
    with pytest.raises(ValidationError) as info:
        Item.model_validate({"colour": "green", "size": "big", "shape": "round"})
    problems = field_problems(info.value, unknown_field="is not an item field", whole="item")
    assert [str(p) for p in problems] == [
        "`colour` must be one of red, blue",
        "`size` Input should be a valid integer, unable to parse string as an integer",
        "`shape` is not an item field",
    ]
    assert problems[0].loc == ("colour",)
