"""Print the API's OpenAPI 3.1 document: ``python -m smartcharge.web.openapi > docs/openapi.json``.

The checked-in ``docs/openapi.json`` must equal this output (``tests/web/test_openapi.py``).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from smartcharge.web.app import create_app


def document() -> dict[str, Any]:
    return create_app(None).openapi()


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
