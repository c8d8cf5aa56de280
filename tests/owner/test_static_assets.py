"""The vendored front-end files are the npm packages' own (checksums in their PROVENANCE), ship
inside the package, and no template loads anything from another host (never a CDN)."""

from __future__ import annotations

import hashlib
import re
from importlib import resources


def _vendor():
    return resources.files("smartcharge.web").joinpath("static/vendor")


def test_vendored_files_match_their_provenance() -> None:
    table = _vendor().joinpath("PROVENANCE.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([^`]+)` \| `([^`]+)` \| ([^|]+) \|.*\| `([0-9a-f]{64})` \|$", table, re.M)
    assert {r[0] for r in rows} == {"htmx-2.0.11.min.js", "chart-4.6.1.umd.min.js"}
    for name, _package, _version, sha256 in rows:
        assert hashlib.sha256(_vendor().joinpath(name).read_bytes()).hexdigest() == sha256, name
    for licence in ("htmx-LICENSE.txt", "chart.js-LICENSE.md"):
        assert _vendor().joinpath(licence).is_file()


def test_no_template_loads_from_another_host() -> None:
    templates = resources.files("smartcharge.web").joinpath("pages/templates")
    for entry in templates.iterdir():
        text = entry.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), entry.name
