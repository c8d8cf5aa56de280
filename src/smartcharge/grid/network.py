"""Our own small description of a radial LV feeder, independent of any power-flow library.

An :class:`LVNetwork` is a source (the upstream grid as a Thevenin equivalent), one distribution
transformer, a tree of LV line sections with sequence impedances and thermal ratings, and
single-phase customer connection points (``load_*``) on buses and phases. The power-flow back
ends (:mod:`smartcharge.grid.pgm`, :mod:`smartcharge.grid.crosscheck`) are built from it, and the
exact reduction (:mod:`smartcharge.grid.reduction`) maps one to a smaller one.

Every network is validated when it is built, before any sweep starts: every bus must have a path
to the source, every rating must be > 0, every impedance finite and non-negative in resistance
(issue 5, "Bad input").
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from smartcharge.core.errors import ValidationError
from smartcharge.core.units import BoolArray, FloatArray, IntArray


class DisconnectedBusError(ValidationError):
    """A bus has no path through lines and the transformer to the source."""


@dataclass(frozen=True, slots=True)
class Source:
    """The upstream (MV) grid as a Thevenin equivalent at the transformer's HV bus."""

    u_ref_pu: float
    sk_va: float
    rx_ratio: float
    z01_ratio: float


@dataclass(frozen=True, slots=True)
class Transformer:
    """A two-winding distribution transformer, HV delta / LV star with earthed neutral (Dyn).

    ``uk`` and ``pk_w`` are the short-circuit voltage (fraction) and copper loss; ``clock`` is the
    vector-group clock number (Dyn1 -> 1, Dyn11 -> 11).
    """

    u1_v: float
    u2_v: float
    sn_va: float
    uk: float
    pk_w: float
    clock: int = 1

    @property
    def rated_current_lv_a(self) -> float:
        """Rated LV phase current: ``sn / (sqrt(3) * u2)``."""
        return float(self.sn_va / (np.sqrt(3.0) * self.u2_v))


@dataclass(frozen=True)
class LVNetwork:
    """A radial LV feeder. Bus 0 is the HV side of the transformer, bus 1 its LV busbar.

    Arrays are indexed by position (``line_from`` holds bus positions, not names). Per-line values
    are totals for the section (ohm, farad, ampere), not per km.
    """

    name: str
    bus_name: tuple[str, ...]  # (n_bus,)
    u_rated_v: FloatArray  # (n_bus,) line-to-line
    source: Source
    transformer: Transformer
    line_from: IntArray  # (n_line,)
    line_to: IntArray  # (n_line,)
    r1_ohm: FloatArray
    x1_ohm: FloatArray
    r0_ohm: FloatArray
    x0_ohm: FloatArray
    c1_f: FloatArray
    c0_f: FloatArray
    i_max_a: FloatArray
    load_bus: IntArray  # (n_load,) bus position of each customer connection point
    load_phase: IntArray  # (n_load,) 0, 1, 2 for phases a, b, c
    load_name: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        validate_network(self)

    @property
    def n_bus(self) -> int:
        return len(self.bus_name)

    @property
    def n_line(self) -> int:
        return int(self.line_from.size)

    @property
    def n_load(self) -> int:
        return int(self.load_bus.size)

    @property
    def lv_bus(self) -> int:
        return 1


def validate_network(net: LVNetwork) -> None:
    """Refuse a network a power flow could not trust; each error names the element and the rule."""
    n_bus, n_line = len(net.bus_name), int(net.line_from.size)
    if n_bus < 2:
        raise ValidationError(f"{net.name}.bus", n_bus, "a feeder needs the HV and LV transformer buses")
    _check_positive(net.name, "u_rated_v", net.u_rated_v, net.bus_name)
    for key in ("r1_ohm", "x1_ohm", "r0_ohm", "x0_ohm", "c1_f", "c0_f", "i_max_a", "line_to"):
        if getattr(net, key).shape != (n_line,):
            raise ValidationError(
                f"{net.name}.{key}", getattr(net, key).shape, f"must have shape ({n_line},)"
            )
    line_names = tuple(
        f"line {i} ({net.bus_name[a]}-{net.bus_name[b]})"
        for i, (a, b) in enumerate(zip(net.line_from.tolist(), net.line_to.tolist(), strict=True))
    )
    _check_positive(net.name, "i_max_a", net.i_max_a, line_names, rule="a thermal rating must be > 0 A")
    for key in ("r1_ohm", "r0_ohm", "c1_f", "c0_f"):
        _check_non_negative(net.name, key, getattr(net, key), line_names)
    for key in ("x1_ohm", "x0_ohm"):
        values = getattr(net, key)
        bad = ~np.isfinite(values)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValidationError(f"{net.name}.{line_names[i]}.{key}", float(values[i]), "must be finite")
    z1 = np.hypot(net.r1_ohm, net.x1_ohm)
    if (z1 <= 0).any():
        i = int(np.argmax(z1 <= 0))
        raise ValidationError(f"{net.name}.{line_names[i]}.z1", 0.0, "a line needs a non-zero impedance")
    for key in ("line_from", "line_to", "load_bus"):
        values = getattr(net, key)
        if values.size and (values.min() < 0 or values.max() >= n_bus):
            raise ValidationError(f"{net.name}.{key}", values.tolist(), f"bus positions run 0..{n_bus - 1}")
    if net.load_phase.shape != net.load_bus.shape or not np.isin(net.load_phase, (0, 1, 2)).all():
        raise ValidationError(
            f"{net.name}.load_phase", net.load_phase.tolist(), "each load is on phase 0, 1 or 2"
        )
    if (net.load_bus < 2).any():
        raise ValidationError(
            f"{net.name}.load_bus", net.load_bus.tolist(), "customers connect on the LV side"
        )
    _check_transformer(net)
    _check_source(net)
    _check_connected(net)


def _check_transformer(net: LVNetwork) -> None:
    t = net.transformer
    for key, value in (("sn_va", t.sn_va), ("u1_v", t.u1_v), ("u2_v", t.u2_v), ("uk", t.uk)):
        if not (np.isfinite(value) and value > 0):
            raise ValidationError(f"{net.name}.transformer.{key}", value, "a transformer rating must be > 0")
    if not 0 <= t.pk_w < t.uk * t.sn_va:
        raise ValidationError(f"{net.name}.transformer.pk_w", t.pk_w, "copper loss must be in [0, uk*sn)")


def _check_source(net: LVNetwork) -> None:
    s = net.source
    for key, value in (("u_ref_pu", s.u_ref_pu), ("sk_va", s.sk_va), ("rx_ratio", s.rx_ratio)):
        if not (np.isfinite(value) and value > 0):
            raise ValidationError(f"{net.name}.source.{key}", value, "must be > 0")


def _check_connected(net: LVNetwork) -> None:
    """Breadth-first search from the LV busbar; the HV bus is reached through the transformer."""
    reached = connected_from_lv(net)
    reached[0] = True
    if not reached.all():
        i = int(np.argmin(reached))
        raise DisconnectedBusError(
            f"{net.name}.bus[{net.bus_name[i]}]", net.bus_name[i], "bus has no path to the source"
        )
    if net.n_line != net.n_bus - 2:
        raise ValidationError(
            f"{net.name}.line", net.n_line, f"a radial feeder of {net.n_bus} buses has {net.n_bus - 2} lines"
        )


def connected_from_lv(net: LVNetwork) -> BoolArray:
    """Buses reachable from the LV busbar through lines."""
    adjacency: list[list[int]] = [[] for _ in range(len(net.bus_name))]
    for a, b in zip(net.line_from.tolist(), net.line_to.tolist(), strict=True):
        adjacency[a].append(b)
        adjacency[b].append(a)
    reached = np.zeros(len(net.bus_name), dtype=np.bool_)
    reached[1] = True
    queue = deque([1])
    while queue:
        for nxt in adjacency[queue.popleft()]:
            if not reached[nxt]:
                reached[nxt] = True
                queue.append(nxt)
    return reached


def _check_positive(
    net_name: str, key: str, values: FloatArray, names: tuple[str, ...], rule: str = "must be > 0"
) -> None:
    bad = ~(np.isfinite(values) & (values > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValidationError(f"{net_name}.{names[i]}.{key}", float(values[i]), rule)


def _check_non_negative(net_name: str, key: str, values: FloatArray, names: tuple[str, ...]) -> None:
    bad = ~(np.isfinite(values) & (values >= 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValidationError(f"{net_name}.{names[i]}.{key}", float(values[i]), "must be finite and >= 0")


__all__ = [
    "DisconnectedBusError",
    "LVNetwork",
    "Source",
    "Transformer",
    "connected_from_lv",
    "validate_network",
]
