#!/usr/bin/env bash
# Every quality gate and every test, in the order that fails fastest. Run from the project's venv
# (README quick start); extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${VIRTUAL_ENV:-.venv}/bin"
"$bin/ruff" check src tests benchmarks
"$bin/ruff" format --check src tests benchmarks
"$bin/mypy"
"$bin/lint-imports"
"$bin/pytest" "$@"
