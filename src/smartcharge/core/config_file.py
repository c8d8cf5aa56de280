"""Reading the files a person hands the product (scenarios, studies, settings), safely.

Every file is capped in size and must be UTF-8 text; YAML is read with PyYAML's safe loader, less
anchors and aliases. A YAML alias bomb (a few hundred bytes whose aliases expand to gigabytes) grew
``sim run`` past 850 MB in 25 s on main; none of our files needs an alias, so any is refused at
parse time, before a single node is built. Every problem is one :class:`DataFileError` naming the
file and the rule.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from smartcharge.core.errors import DataFileError, ValidationError

#: Largest configuration file read (the biggest shipped study file is a few KB).
MAX_CONFIG_BYTES = 1024 * 1024


class _NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses anchors and aliases instead of expanding them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not accepted", event.start_mark
            )
        event = self.peek_event()  # type: ignore[no-untyped-call]
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise yaml.composer.ComposerError(
                None, None, "YAML anchors (&name) are not accepted", event.start_mark
            )
        return super().compose_node(parent, index)


def read_text(path: Path, max_bytes: int = MAX_CONFIG_BYTES) -> str:
    """The UTF-8 text of ``path``, or :class:`DataFileError` saying why it cannot be read."""
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise DataFileError(str(path), "is a directory, not a file")
        if size > max_bytes:
            raise DataFileError(str(path), f"is {size} bytes; files of up to {max_bytes} bytes are read")
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataFileError(str(path), "file not found") from None
    except PermissionError:
        raise DataFileError(str(path), "permission denied") from None
    except OSError as exc:
        raise DataFileError(str(path), f"cannot be read: {exc.strerror or exc}") from None
    if b"\x00" in data:
        raise DataFileError(str(path), "is a binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataFileError(str(path), f"is not UTF-8 text (byte {exc.start})") from None


def require_file(path: Path, field: str) -> Path:
    """``path`` if it names a readable file, else a ValidationError naming ``field`` (e.g. ``cert``)."""
    if not path.is_file():
        rule = "is a directory, not a file" if path.is_dir() else "file not found"
        raise ValidationError(field, str(path), rule)
    return path


def parse_yaml(text: str, name: str) -> Any:
    """Parse YAML ``text`` (from the file ``name``) without anchors or aliases."""
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise DataFileError(name, f"not valid YAML{where}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise DataFileError(name, f"not valid YAML: {str(exc).splitlines()[0][:120]}") from None


def load_yaml(path: Path) -> Any:
    """Read and parse a YAML file (see :func:`read_text` and :func:`parse_yaml`)."""
    return parse_yaml(read_text(path), str(path))


def load_yaml_or_json(path: Path) -> Any:
    """A ``.json`` file as JSON, anything else as YAML."""
    text = read_text(path)
    if path.suffix.lower() != ".json":
        return parse_yaml(text, str(path))
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFileError(str(path), f"not valid JSON at line {exc.lineno}: {exc.msg}") from None


__all__ = ["MAX_CONFIG_BYTES", "load_yaml", "load_yaml_or_json", "parse_yaml", "read_text", "require_file"]
