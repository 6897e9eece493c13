"""Files people write to configure Mend (TOML or YAML), read with the line of every item and field."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

#: Where a value is in a file, by its path of keys and list indexes: ("guarantees", 0, "kind") -> line 4.
LineFinder = Callable[[Sequence[Any]], int | None]


class ConfigFileError(ValueError):
    """A file that cannot be used; the message names the file, the line or field, and the fix."""


@dataclass(frozen=True)
class ConfigFile:
    """A parsed file: its data as the parser gave it, and where each of its values was written."""

    source: str
    data: Any
    line: LineFinder


def line_of(lines: LineFinder | None, loc: Sequence[Any]) -> int | None:
    """The line of `loc`, if the data came from a file that says."""
    return lines(loc) if lines else None


def read_config_file(path: Path, *, what: str, error: type[ConfigFileError] = ConfigFileError) -> ConfigFile:
    """Parse a .toml, .yaml or .yml file; any problem is raised as `error`, naming the `what` file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path}: can't read the {what} file ({exc.strerror or exc}).") from exc
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise error(f"{path}: not valid TOML: {exc}") from None
        return ConfigFile(source=str(path), data=data, line=toml_lines(text))
    if suffix in {".yaml", ".yml"}:
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise error(f"{path}: not valid YAML: {exc}") from None
        return ConfigFile(source=str(path), data=data, line=yaml_lines(node))
    raise error(f"{path}: use a .toml, .yaml or .yml file.")


@dataclass(frozen=True)
class FieldProblem:
    """One thing pydantic refused, worded for the person who wrote the file."""

    loc: tuple[Any, ...]
    field: str  # dotted, as the person wrote it: guidance.major.max
    message: str

    def __str__(self) -> str:
        return f"`{self.field}` {self.message}"


def field_problems(exc: ValidationError, *, unknown_field: str, whole: str) -> list[FieldProblem]:
    """pydantic's errors in the file's own terms; `unknown_field` says what a misspelt key should be."""
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        field = ".".join(str(p) for p in loc) or whole
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = unknown_field
        elif error["type"] == "enum" and "expected" in error.get("ctx", {}):
            # pydantic lists the members as "'a', 'b' or 'c'"; a person copies them better bare.
            choices = re.findall(r"'([^']*)'", str(error["ctx"]["expected"]))
            message = f"must be one of {', '.join(choices)}"
        problems.append(FieldProblem(loc=loc, field=field, message=message))
    return problems


_ARRAY_TABLE = re.compile(r"\[\[\s*([\w.]+)\s*\]\]\s*(?:#.*)?")
_TABLE = re.compile(r"\[\s*([\w.]+)\s*\]\s*(?:#.*)?")
_KEY = re.compile(r"([\w.\"]+)\s*=")


def toml_lines(text: str) -> LineFinder:
    """Where a value is in a TOML file: good enough to point a person at the right line."""
    source = text.splitlines()

    def find(loc: Sequence[Any]) -> int | None:
        table: list[str] = []
        array_counts: dict[str, int] = {}
        path = [str(p) for p in loc if not isinstance(p, int)]
        index = next((p for p in loc if isinstance(p, int)), None)
        best: int | None = None
        for number, line in enumerate(source, 1):
            stripped = line.strip()
            if m := _ARRAY_TABLE.fullmatch(stripped):
                table = m[1].split(".")
                array_counts[m[1]] = array_counts.get(m[1], -1) + 1
                if table == path[: len(table)] and (index is None or array_counts[m[1]] == index):
                    best = best or number
                    if len(path) == len(table):
                        return number
                continue
            if m := _TABLE.fullmatch(stripped):
                table = m[1].split(".")
                if table == path[: len(table)] and len(path) == len(table):
                    return number
                continue
            if m := _KEY.match(stripped):
                key = [*table, *m[1].replace('"', "").split(".")]
                in_array = index is None or array_counts.get(".".join(table), -1) == index
                if in_array and (key == path or (path[: len(key)] == key and len(key) < len(path))):
                    return number
        return best

    return find


def yaml_lines(root: Any) -> LineFinder:
    """Where a value is in a YAML file, from the parser's own marks."""

    def find(loc: Sequence[Any]) -> int | None:
        node = root
        line = None
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                # A key written twice means its last value, as in the parsed data.
                matches = [(k, v) for k, v in node.value if getattr(k, "value", None) == str(part)]
                if not matches:
                    break
                key, node = matches[-1]
                line = key.start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        return line

    return find
