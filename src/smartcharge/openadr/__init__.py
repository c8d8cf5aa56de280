"""Interface A adapter (OpenADR 2.0b): the only code that imports ``openleadr``.

Wire messages become the frozen objects of :mod:`smartcharge.openadr.model` at this edge, so the
library can be replaced behind :class:`~smartcharge.openadr.vtn.VtnAdapter` and
:class:`~smartcharge.openadr.ven.VenAdapter`.

Names are imported on first use (PEP 562), so importing one light submodule (or the command line)
does not pull in every library the package uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smartcharge.core.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from smartcharge.openadr.model import (
        DsrEvent,
        EventInterval,
        Opt,
        OptNotice,
        OptReason,
        Programme,
        Registration,
        ReportPoint,
        SecurityNotice,
        Signal,
        StatusCode,
        VenRecord,
    )
    from smartcharge.openadr.pki import CertPaths, fingerprint_of, issue_pki
    from smartcharge.openadr.ven import PollResult, VenAdapter, VenConfig, VenError
    from smartcharge.openadr.vtn import VenDirectory, VtnAdapter, VtnConfig, VtnListener

_EXPORTS: dict[str, tuple[str, str]] = {
    "DsrEvent": ("smartcharge.openadr.model", "DsrEvent"),
    "EventInterval": ("smartcharge.openadr.model", "EventInterval"),
    "Opt": ("smartcharge.openadr.model", "Opt"),
    "OptNotice": ("smartcharge.openadr.model", "OptNotice"),
    "OptReason": ("smartcharge.openadr.model", "OptReason"),
    "Programme": ("smartcharge.openadr.model", "Programme"),
    "Registration": ("smartcharge.openadr.model", "Registration"),
    "ReportPoint": ("smartcharge.openadr.model", "ReportPoint"),
    "SecurityNotice": ("smartcharge.openadr.model", "SecurityNotice"),
    "Signal": ("smartcharge.openadr.model", "Signal"),
    "StatusCode": ("smartcharge.openadr.model", "StatusCode"),
    "VenRecord": ("smartcharge.openadr.model", "VenRecord"),
    "CertPaths": ("smartcharge.openadr.pki", "CertPaths"),
    "fingerprint_of": ("smartcharge.openadr.pki", "fingerprint_of"),
    "issue_pki": ("smartcharge.openadr.pki", "issue_pki"),
    "PollResult": ("smartcharge.openadr.ven", "PollResult"),
    "VenAdapter": ("smartcharge.openadr.ven", "VenAdapter"),
    "VenConfig": ("smartcharge.openadr.ven", "VenConfig"),
    "VenError": ("smartcharge.openadr.ven", "VenError"),
    "VenDirectory": ("smartcharge.openadr.vtn", "VenDirectory"),
    "VtnAdapter": ("smartcharge.openadr.vtn", "VtnAdapter"),
    "VtnConfig": ("smartcharge.openadr.vtn", "VtnConfig"),
    "VtnListener": ("smartcharge.openadr.vtn", "VtnListener"),
}


__getattr__ = lazy_getattr(__name__, _EXPORTS)


__all__ = [
    "CertPaths",
    "DsrEvent",
    "EventInterval",
    "Opt",
    "OptNotice",
    "OptReason",
    "PollResult",
    "Programme",
    "Registration",
    "ReportPoint",
    "SecurityNotice",
    "Signal",
    "StatusCode",
    "VenAdapter",
    "VenConfig",
    "VenDirectory",
    "VenError",
    "VenRecord",
    "VtnAdapter",
    "VtnConfig",
    "VtnListener",
    "fingerprint_of",
    "issue_pki",
]
