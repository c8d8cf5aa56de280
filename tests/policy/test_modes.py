"""Operating modes and fail-safe (SCP-FS-1…4)."""

from __future__ import annotations

import numpy as np

from smartcharge.policy.modes import NO_EVENT, Mode, is_dsr_event_live, select_mode


def test_mode_priorities() -> None:
    """SCP-FS-1/2: lost comms -> fail-safe; override works even offline; live DSR event -> DSR mode."""
    comms = np.array([True, True, False, False, True])
    override = np.array([False, False, False, True, False])
    dsr = np.array([False, True, True, True, True])
    recovering = np.array([False, False, False, False, True])
    modes = select_mode(comms, override, dsr, recovering)
    assert modes.tolist() == [
        Mode.NORMAL,
        Mode.DSR_MANAGED,
        Mode.FAIL_SAFE,
        Mode.CONSUMER_OVERRIDE,
        Mode.FAIL_SAFE,
    ]


def test_expired_dsr_event_never_resumes() -> None:
    """SCP-FS-4: after a power cut an event that ended meanwhile is not resumed."""
    start = np.array([0, 0, 100, 0])
    end = np.array([1000, 500, 1000, NO_EVENT])
    assert is_dsr_event_live(start, end, 600).tolist() == [True, False, True, False]
    assert is_dsr_event_live(start, end, 50).tolist() == [True, True, False, False]
