"""The one settings-file reader behind ``dsrsp serve`` and ``cem serve --ven-config`` (SEC-D-6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartcharge.cem.dsr_config import load_ven_settings
from smartcharge.core.errors import ValidationError
from smartcharge.dsrsp.config import load_dsrsp_settings


def test_relative_certificate_paths_are_taken_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ven.yaml"
    path.write_text(
        "ven_name: home-cem\ncert: cem.pem\nkey: keys/cem.key\nca_file: /etc/ca.pem\nstorage_url: sqlite://\n"
    )
    settings = load_ven_settings(path)
    assert settings.cert == tmp_path / "cem.pem"
    assert settings.key == tmp_path / "keys" / "cem.key"
    assert settings.ca_file == Path("/etc/ca.pem")


@pytest.mark.parametrize(
    ("content", "field", "rule"),
    [
        (None, "config", "file not found"),
        ("a: [", "config", "not valid YAML"),
        ("- a list\n", "config", "must be a mapping"),
        ("vtn_id: dsrsp-a\n", "vtn_id", "upper case"),
    ],
)
def test_bad_dsrsp_settings_name_the_field(
    tmp_path: Path, content: str | None, field: str, rule: str
) -> None:
    path = tmp_path / "dsrsp.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ValidationError, match=rule) as info:
        load_dsrsp_settings(path)
    assert info.value.field == field


def test_bad_ven_settings_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="file not found") as info:
        load_ven_settings(tmp_path / "missing.yaml")
    assert info.value.field == "ven_config"
