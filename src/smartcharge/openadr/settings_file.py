"""Reading a DSRSP's or a VEN's settings file: YAML or JSON, validated by a pydantic model.

Certificate and key paths written relative to the file are taken relative to the file, so a
folder of settings and PEM files can be moved as one. A file that cannot be read, does not parse
or breaks a rule is refused with the field and the rule named; nothing is guessed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from smartcharge.core.errors import ValidationError as SmartchargeValidationError

Settings = TypeVar("Settings", bound=BaseModel)
#: Settings that name PEM files.
PATH_KEYS = ("cert", "key", "ca_file")


def load_settings_file(path: Path, model: type[Settings], file_field: str) -> Settings:
    """Read ``path`` and validate it as ``model``; ``file_field`` names the file in errors."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SmartchargeValidationError(file_field, str(path), f"cannot be read: {exc}") from None
    try:
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise SmartchargeValidationError(file_field, str(path), f"not valid YAML/JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise SmartchargeValidationError(file_field, str(path), "must be a mapping of settings")
    for name in PATH_KEYS:
        if name in raw and not Path(str(raw[name])).is_absolute():
            raw[name] = str(Path(path).parent / str(raw[name]))
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or file_field
        raise SmartchargeValidationError(field, first.get("input"), first["msg"]) from None


__all__ = ["PATH_KEYS", "load_settings_file"]
