"""Reading a DSRSP's or a VEN's settings file: YAML or JSON, validated by a pydantic model.

Certificate and key paths written relative to the file are taken relative to the file, so a
folder of settings and PEM files can be moved as one. A file that cannot be read, does not parse
or breaks a rule is refused with the field and the rule named; nothing is guessed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from smartcharge.core.config_file import load_yaml_or_json
from smartcharge.core.errors import DataFileError, schema_error
from smartcharge.core.errors import ValidationError as SmartchargeValidationError

Settings = TypeVar("Settings", bound=BaseModel)
#: Settings that name PEM files.
PATH_KEYS = ("cert", "key", "ca_file")


def load_settings_file(path: Path, model: type[Settings], file_field: str) -> Settings:
    """Read ``path`` and validate it as ``model``; ``file_field`` names the file in errors."""
    try:
        raw = load_yaml_or_json(Path(path))
    except DataFileError as exc:
        raise SmartchargeValidationError(file_field, str(path), exc.problem) from None
    if not isinstance(raw, dict):
        raise SmartchargeValidationError(file_field, str(path), "must be a mapping of settings")
    for name in PATH_KEYS:
        if name in raw and not Path(str(raw[name])).is_absolute():
            raw[name] = str(Path(path).parent / str(raw[name]))
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise schema_error(exc.errors(), file_field) from None


__all__ = ["PATH_KEYS", "load_settings_file"]
