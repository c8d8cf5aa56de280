"""Interface A adapter (OpenADR 2.0b): the only code that imports ``openleadr``.

Wire messages become the frozen objects of :mod:`smartcharge.openadr.model` at this edge, so the
library can be replaced behind :class:`~smartcharge.openadr.vtn.VtnAdapter` and
:class:`~smartcharge.openadr.ven.VenAdapter`.
"""

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
