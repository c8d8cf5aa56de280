"""Fixtures for the study tests: a tiny study on the parametric feeder."""

from __future__ import annotations

import sys
from pathlib import Path

import cloudpickle
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import synthetic  # noqa: E402

# Dask workers cannot import the tests directory: ship the stand-in provider by value.
cloudpickle.register_pickle_by_value(synthetic)


@pytest.fixture
def tiny_study() -> dict[str, object]:
    return {
        "name": "tiny",
        "start": "2025-01-14T12:00:00+00:00",
        "days": 1,
        "step_s": 300,
        "seeds": [1, 2],
        "penetrations": [0.0, 0.25, 0.5, 0.75, 1.0],
        "workers": 0,
        "crosscheck_steps": 1,
        "feeders": [{"name": "radial", "params": {"n_households": 24, "n_branches": 2, "span_m": 30}}],
        "strategies": [
            {"label": "uncontrolled", "key": "uncontrolled", "tariffs": ["octopus_go"]},
            {
                "label": "window_delay",
                "key": "tariff_window_delay",
                "tariffs": ["octopus_go"],
                "config": {"max_delay_s": 1800},
            },
        ],
        "second_peak": {
            "feeder": "radial",
            "penetration": 0.5,
            "strategies": [
                {
                    "label": "delay_0s",
                    "key": "tariff_window_delay",
                    "tariffs": ["octopus_go"],
                    "config": {"max_delay_s": 0},
                },
                {
                    "label": "staggered",
                    "key": "tariff_window_delay",
                    "tariffs": ["octopus_go", "eon_next_drive"],
                    "config": {"max_delay_s": 600},
                },
            ],
        },
        "cost": {
            "feeder": "radial",
            "penetration": 0.5,
            "strategies": [{"label": "go", "key": "tariff_window", "tariffs": ["octopus_go"]}],
        },
    }
