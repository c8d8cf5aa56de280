"""Site load management, live: the circuit tree, priorities, the meter and the fail-safe (issue 12 item 3).

The site is a tree of circuits (site connection -> circuits -> charge points), each with a current
limit per phase (A) and/or a power limit (W) (ARB-3, SCN-WRK after ENA G100). The site service:

- keeps the :class:`SiteConfig`; only the ``site-manager`` role may change it, and every change
  (and every refusal) is written to the security log with who made it (SEC-D-9);
- listens to the site meter (:mod:`smartcharge.cem.meter`): the rest of the site's load is the
  meter's import less what the charge points draw, and the connection's limit less that load is
  what the cars may share;
- shares it with the policy kernel :func:`smartcharge.policy.site_allocation.allocate_site`
  (minimum current first by priority, then max-min fair) and applies each charge point's share as
  a site limit (ARB-5 layer 2, :attr:`LimitSource.SITE`) through the gateway's limit book, which
  turns it into the ChargingStationMaxProfile at once (a site cut is never delayed, SCP-RD-4);
- checks the meter's age every second: data older than 15 s puts every charge point on its
  fail-safe limit (report 7.21), within the next check; a fresh reading lifts it;
- re-shares at the next check when a session starts or ends or its id token becomes known, so a
  "token X first" priority acts on the session it names;
- keeps the settings in the store (:class:`smartcharge.store.site_repo.SiteRepository`, revision
  ``0012_plans_site``) when given a repository: a change is written before it takes effect, and a
  restarted CEM resumes the stored settings (they win over a ``--site`` file, which only seeds an
  empty store).

A site file (``cem serve --site FILE``, YAML or JSON) holds the same settings as the API::

    circuits:
      - {circuit_id: site, phase_limit_a: 100}
      - {circuit_id: car-park, parent: site, power_limit_w: 44000}
    charge_points:
      - {station_id: van-1, circuit_id: car-park, phases: L1L2L3, max_current_a: 32, priority: 10}
    token_priority: {FLEET-CARD-1: 50}
    failsafe_current_a: 6
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine

from smartcharge.cem.gateway import CemGateway
from smartcharge.cem.meter import (
    METER_STALE_S,
    EmulatedMeter,
    MeterReading,
    MqttMeter,
    MqttMeterConfig,
    SiteMeter,
)
from smartcharge.core.config_file import parse_yaml, read_text
from smartcharge.core.errors import DataFileError, ValidationError
from smartcharge.core.limit import Limit, LimitSource
from smartcharge.core.units import NOMINAL_VOLTAGE_V
from smartcharge.policy.site_allocation import IEC_MIN_CURRENT_A, STARVED, SiteTree, allocate_site
from smartcharge.store.site_repo import SiteRepository, StoredCircuit, StoredSite, StoredSiteChargePoint

logger = logging.getLogger(__name__)

SITE_MANAGER = "site-manager"
PHASE_NAMES = ("L1", "L2", "L3")
#: How often the meter's age is checked (well inside the 15 s allowed to reach the fail-safe).
WATCHDOG_S = 1.0
#: How often ``cem serve --site-meter emulated`` reads its emulated meter.
EMULATED_METER_S = 5.0


class SiteAccessError(ValidationError):
    """The caller's role may not change the site settings."""


@dataclass(frozen=True, slots=True)
class Circuit:
    """One node of the tree: ``parent`` None for the site connection."""

    circuit_id: str
    parent: str | None = None
    phase_limit_a: float | None = None  # per phase, None: no such limit
    power_limit_w: float | None = None


@dataclass(frozen=True, slots=True)
class SiteChargePoint:
    """Where a charge point hangs, which phases it uses, and how it is served."""

    station_id: str
    circuit_id: str
    phases: str = "L1"  # "L1", "L2", "L3" or "L1L2L3"
    max_current_a: float = 32.0
    min_current_a: float = IEC_MIN_CURRENT_A
    priority: int = 0

    def phase_mask(self) -> tuple[bool, bool, bool]:
        return (
            "L1" in self.phases,
            "L2" in self.phases,
            "L3" in self.phases,
        )


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """The site: circuits (the first is the connection), charge points, token priorities, fail-safe."""

    circuits: tuple[Circuit, ...]
    charge_points: tuple[SiteChargePoint, ...] = ()
    token_priority: Mapping[str, int] = field(default_factory=dict)
    failsafe_current_a: float = IEC_MIN_CURRENT_A
    voltage_v: float = NOMINAL_VOLTAGE_V

    def __post_init__(self) -> None:
        validate_site(self)

    def tree(self) -> tuple[SiteTree, dict[str, int]]:
        index = {c.circuit_id: i for i, c in enumerate(self.circuits)}
        parent = np.array([-1 if c.parent is None else index[c.parent] for c in self.circuits])
        phase = np.array(
            [[math.inf if c.phase_limit_a is None else c.phase_limit_a] * 3 for c in self.circuits]
        )
        power = np.array([math.inf if c.power_limit_w is None else c.power_limit_w for c in self.circuits])
        return SiteTree(parent, phase.reshape(-1, 3), power, self.voltage_v), index


def validate_site(config: SiteConfig) -> None:
    """Every rule of a site setting; raises ValidationError naming the field and the rule."""
    if not config.circuits:
        raise ValidationError("circuits", [], "a site has at least its connection")
    seen: dict[str, Circuit] = {}
    for i, c in enumerate(config.circuits):
        name = f"circuits[{i}]"
        if not c.circuit_id or c.circuit_id in seen:
            raise ValidationError(f"{name}.circuit_id", c.circuit_id, "a unique, non-empty id")
        if (i == 0) != (c.parent is None):
            raise ValidationError(
                f"{name}.parent", c.parent, "the first circuit is the site connection, only it has no parent"
            )
        if c.parent is not None and c.parent not in seen:
            raise ValidationError(f"{name}.parent", c.parent, "names a circuit listed before it")
        for attr in ("phase_limit_a", "power_limit_w"):
            value = getattr(c, attr)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ValidationError(f"{name}.{attr}", value, "a finite limit >= 0, or none")
        seen[c.circuit_id] = c
    stations: set[str] = set()
    for i, cp in enumerate(config.charge_points):
        name = f"charge_points[{i}]"
        if not cp.station_id or cp.station_id in stations:
            raise ValidationError(f"{name}.station_id", cp.station_id, "a unique, non-empty charge point id")
        stations.add(cp.station_id)
        if cp.circuit_id not in seen:
            raise ValidationError(f"{name}.circuit_id", cp.circuit_id, "names no circuit of the site")
        if cp.phases not in ("L1", "L2", "L3", "L1L2L3"):
            raise ValidationError(f"{name}.phases", cp.phases, "one of L1, L2, L3, L1L2L3")
        if not IEC_MIN_CURRENT_A <= cp.min_current_a <= cp.max_current_a <= 80:
            raise ValidationError(
                f"{name}.min_current_a", cp.min_current_a, "6 A <= minimum <= maximum <= 80 A (IEC 61851-1)"
            )
        _check_path_carries_minimum(config, seen, cp, name)
    for token, prio in config.token_priority.items():
        if not token or isinstance(prio, bool) or not isinstance(prio, int) or not -100 <= prio <= 100:
            raise ValidationError(
                f"token_priority[{token!r}]", prio, "an id token with a whole priority -100..100"
            )
    if not 0 <= config.failsafe_current_a <= 80:
        raise ValidationError("failsafe_current_a", config.failsafe_current_a, "0..80 A")
    if not 200 <= config.voltage_v <= 253:
        raise ValidationError("voltage_v", config.voltage_v, "a GB LV phase voltage, 200..253 V")


def _check_path_carries_minimum(
    config: SiteConfig, circuits: dict[str, Circuit], cp: SiteChargePoint, name: str
) -> None:
    """A circuit limit below a charge point's minimum charging current could never let it charge."""
    node: str | None = cp.circuit_id
    n_phases = sum(cp.phase_mask())
    while node is not None:
        c = circuits[node]
        if c.phase_limit_a is not None and c.phase_limit_a < cp.min_current_a:
            index = next(i for i, x in enumerate(config.circuits) if x.circuit_id == node)
            raise ValidationError(
                f"circuits[{index}].phase_limit_a",
                c.phase_limit_a,
                f"below the minimum charging current {cp.min_current_a:g} A of {cp.station_id}",
            )
        if c.power_limit_w is not None and c.power_limit_w < cp.min_current_a * n_phases * config.voltage_v:
            index = next(i for i, x in enumerate(config.circuits) if x.circuit_id == node)
            raise ValidationError(
                f"circuits[{index}].power_limit_w",
                c.power_limit_w,
                f"below the minimum charging power of {cp.station_id} "
                f"({cp.min_current_a:g} A x {n_phases} phase(s))",
            )
        node = c.parent


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks (from the web layer's authenticated principal)."""

    user: str
    role: str


@dataclass(frozen=True, slots=True)
class ChargePointShare:
    station_id: str
    current_a: float
    power_w: float
    binding: str  # "request", "starved", "failsafe" or the circuit id that limits it
    priority: int


@dataclass
class SiteState:
    """What the service last decided, for the API and the dashboard."""

    reading: MeterReading | None = None
    failsafe: bool = False
    failsafe_since_s: float | None = None
    shares: dict[str, ChargePointShare] = field(default_factory=dict)
    applied_at_s: float | None = None


class SiteService:
    """The live site: config, meter, allocation, fail-safe; applies site limits through the gateway."""

    def __init__(
        self,
        gateway: CemGateway,
        config: SiteConfig,
        meter: SiteMeter,
        clock: Callable[[], float] = time.time,
        stale_s: float = METER_STALE_S,
        repository: SiteRepository | None = None,
    ) -> None:
        self.gateway = gateway
        self.config = config
        self.meter = meter
        self.clock = clock
        self.stale_s = stale_s
        self.repository = repository
        self.state = SiteState()
        self._sessions_seen: tuple[tuple[str, bool, str | None], ...] = ()
        self._sent_w: dict[str, float] = {}
        self._lock = asyncio.Lock()
        meter.subscribe(self._on_reading)

    # ---- settings (site-manager only, every change logged) ------------------------------------

    async def change(self, actor: Actor, **changes: Any) -> SiteConfig:
        """Replace parts of the site settings; refused unless ``actor`` is a site manager."""
        if actor.role != SITE_MANAGER:
            await self.gateway.recorder.security_event(
                None, "SiteSettingsRefused", f"{actor.user} ({actor.role}) may not change the site"
            )
            raise SiteAccessError("role", actor.role, f"only the {SITE_MANAGER} role may change the site")
        try:
            new = replace(self.config, **changes)  # validated whole in __post_init__
        except ValidationError as exc:
            await self.gateway.recorder.security_event(None, "SiteSettingsRefused", f"{actor.user}: {exc}")
            raise
        if self.repository is not None:  # kept first: a failed write leaves the old settings in force
            await asyncio.to_thread(self.repository.save, site_to_stored(new, actor.user))
        self.config = new
        await self.gateway.recorder.security_event(
            None, "SiteSettingsChanged", f"{actor.user} ({actor.role}) changed {', '.join(sorted(changes))}"
        )
        logger.info("site settings changed by %s: %s", actor.user, sorted(changes))
        await self.reallocate()
        return new

    async def set_priorities(
        self,
        actor: Actor,
        priorities: Mapping[str, int],
        token_priority: Mapping[str, int] | None = None,
    ) -> SiteConfig:
        """Set the priority of named charge points and, if given, replace the id tokens'
        priorities, as one change. A name that is no charge point of the site, or a token the CEM
        does not know (OCPP C01: only a known token can start a session), is refused and nothing
        changes."""
        known = {cp.station_id: cp for cp in self.config.charge_points}
        for station_id, prio in priorities.items():
            if station_id not in known:
                raise ValidationError(
                    f"priorities[{station_id!r}]", prio, "names no charge point of the site"
                )
            if isinstance(prio, bool) or not isinstance(prio, int) or not -100 <= prio <= 100:
                raise ValidationError(f"priorities[{station_id!r}]", prio, "a whole priority -100..100")
        changes: dict[str, Any] = {}
        if token_priority is not None:
            for token, prio in token_priority.items():
                if await asyncio.to_thread(self._unknown_token, token):
                    raise ValidationError(
                        f"token_priority[{token!r}]", prio, "names no id token known to the CEM"
                    )
            changes["token_priority"] = dict(token_priority)
        if priorities:
            changes["charge_points"] = tuple(
                replace(cp, priority=priorities[cp.station_id]) if cp.station_id in priorities else cp
                for cp in self.config.charge_points
            )
        if not changes:
            return self.config
        return await self.change(actor, **changes)

    def _unknown_token(self, token: str) -> bool:
        try:
            self.gateway.id_tokens.get(token)
        except ValidationError:
            return True
        return False

    def priority_of(self, station_id: str, id_token: str | None) -> int:
        """The charge point's priority, raised by its session's id token if that has one."""
        base = next((cp.priority for cp in self.config.charge_points if cp.station_id == station_id), 0)
        if id_token is not None and id_token in self.config.token_priority:
            return max(base, int(self.config.token_priority[id_token]))
        return base

    # ---- meter and fail-safe ------------------------------------------------------------------

    async def _on_reading(self, reading: MeterReading) -> None:
        self.state.reading = reading
        await self.reallocate()

    def meter_age_s(self) -> float | None:
        reading = self.meter.latest()
        return None if reading is None else reading.age_s(self.clock())

    def is_stale(self) -> bool:
        age = self.meter_age_s()
        return age is None or age > self.stale_s

    async def watch(self, stop: asyncio.Event, period_s: float = WATCHDOG_S) -> None:
        """Check the meter's age every ``period_s`` until ``stop``; stale data -> fail-safe."""
        while not stop.is_set():
            sessions = self._sessions()
            if self.is_stale() != self.state.failsafe or sessions != self._sessions_seen:
                self._sessions_seen = sessions
                try:
                    await self.reallocate()
                except Exception:  # the watchdog must outlive one failed round (report 7.21)
                    logger.exception("site re-allocation failed; retried at the next check")
                    self._sessions_seen = ()
            try:
                await asyncio.wait_for(stop.wait(), period_s)
            except TimeoutError:
                pass

    # ---- allocation ---------------------------------------------------------------------------

    async def reallocate(self) -> dict[str, ChargePointShare]:
        """Share the site afresh and apply every changed share as a site limit (layer 2)."""
        async with self._lock:
            now = self.clock()
            stale = self.is_stale()
            if stale and not self.state.failsafe:
                logger.warning("site meter data stale (age %s s): fail-safe limits", self.meter_age_s())
                self.state.failsafe_since_s = now
            self.state.failsafe = stale
            if not stale:
                self.state.failsafe_since_s = None
            shares = self._failsafe_shares() if stale else self._shares()
            changed = [
                s for s in shares.values() if abs(self._sent_w.get(s.station_id, -1.0) - s.power_w) > 1.0
            ]
            await self.gateway.apply_limits(
                [
                    (s.station_id, Limit(s.power_w, LimitSource.SITE, f"site: {s.binding}"), None, True)
                    for s in changed
                ],
                keep=False,  # recomputed from the meter; after a restart the fail-safe holds first
            )
            self._sent_w.update({s.station_id: s.power_w for s in changed})
            self.state.shares = shares
            self.state.applied_at_s = now
            return shares

    def _failsafe_shares(self) -> dict[str, ChargePointShare]:
        out = {}
        for cp in self.config.charge_points:
            current = min(self.config.failsafe_current_a, cp.max_current_a)
            power = current * sum(cp.phase_mask()) * self.config.voltage_v
            out[cp.station_id] = ChargePointShare(cp.station_id, current, power, "failsafe", cp.priority)
        return out

    def _shares(self) -> dict[str, ChargePointShare]:
        cps = self.config.charge_points
        if not cps:
            return {}
        tree, index = self.config.tree()
        phases = np.array([cp.phase_mask() for cp in cps], dtype=np.bool_)
        ev_a = self._charge_point_currents(cps, phases)
        tree = self._with_meter(tree, phases, ev_a)
        request = np.array([self._request_a(cp) for cp in cps])
        priority = np.array([self.priority_of(cp.station_id, self._token(cp.station_id)) for cp in cps])
        alloc = allocate_site(
            tree,
            np.array([index[cp.circuit_id] for cp in cps]),
            request,
            phases,
            priority,
            np.array([cp.min_current_a for cp in cps]),
        )
        names = [c.circuit_id for c in self.config.circuits]
        out = {}
        for i, cp in enumerate(cps):
            b = int(alloc.binding_node[i])
            binding = "starved" if b == STARVED else "request" if b < 0 else names[b]
            out[cp.station_id] = ChargePointShare(
                cp.station_id, float(alloc.current_a[i]), float(alloc.power_w[i]), binding, int(priority[i])
            )
        return out

    def _sessions(self) -> tuple[tuple[str, bool, str | None], ...]:
        """Per charge point of the site: in a session or not, and the session's id token."""
        out = []
        for cp in self.config.charge_points:
            state = self.gateway.stations.get(cp.station_id)
            in_session = state is not None and state.transaction_id is not None
            out.append((cp.station_id, in_session, self._token(cp.station_id)))
        return tuple(out)

    def _token(self, station_id: str) -> str | None:
        state = self.gateway.stations.get(station_id)
        return getattr(state, "id_token", None) if state is not None else None

    def _request_a(self, cp: SiteChargePoint) -> float:
        """A charge point in a session asks for its maximum; an idle one keeps its minimum ready,
        so a car that plugs in can start before the next reading."""
        state = self.gateway.stations.get(cp.station_id)
        in_session = state is not None and (state.transaction_id is not None or state.power_w > 0)
        return cp.max_current_a if in_session else cp.min_current_a

    def _charge_point_currents(self, cps: tuple[SiteChargePoint, ...], phases: np.ndarray) -> np.ndarray:
        """What each charge point draws now, per phase (A), from its own meter values."""
        power = np.array([getattr(self.gateway.stations.get(cp.station_id), "power_w", 0.0) for cp in cps])
        n_phases = phases.sum(axis=1)
        result: np.ndarray = phases * (power / (n_phases * self.config.voltage_v))[:, None]
        return result

    def _with_meter(self, tree: SiteTree, phases: np.ndarray, ev_a: np.ndarray) -> SiteTree:
        """The connection's limits less the rest of the site's load (meter minus charge points)."""
        reading = self.meter.latest()
        if reading is None:
            return tree
        phase = tree.phase_limit_a.copy()
        power = tree.power_limit_w.copy()
        other_w = max(reading.import_w - float(ev_a.sum() * self.config.voltage_v), 0.0)
        power[0] = max(power[0] - other_w, 0.0)
        if reading.phase_a is not None:
            other_a = np.maximum(np.array(reading.phase_a) - ev_a.sum(axis=0), 0.0)
            phase[0] = np.maximum(phase[0] - other_a, 0.0)
        elif np.isfinite(phase[0]).any():
            phase[0] = np.maximum(phase[0] - other_w / (3 * self.config.voltage_v), 0.0)
        return SiteTree(tree.parent, phase, power, tree.voltage_v)

    def describe(self) -> dict[str, Any]:
        """The site as the API shows it: settings, meter state and age, fail-safe, shares."""
        reading = self.meter.latest()
        return {
            "circuits": [
                {
                    "circuit_id": c.circuit_id,
                    "parent": c.parent,
                    "phase_limit_a": c.phase_limit_a,
                    "power_limit_w": c.power_limit_w,
                }
                for c in self.config.circuits
            ],
            "charge_points": [
                {
                    "station_id": cp.station_id,
                    "circuit_id": cp.circuit_id,
                    "phases": cp.phases,
                    "max_current_a": cp.max_current_a,
                    "min_current_a": cp.min_current_a,
                    "priority": cp.priority,
                }
                for cp in self.config.charge_points
            ],
            "token_priority": dict(self.config.token_priority),
            "failsafe_current_a": self.config.failsafe_current_a,
            "meter": None
            if reading is None
            else {
                "import_w": reading.import_w,
                "phase_a": list(reading.phase_a) if reading.phase_a else None,
                "taken_s": reading.taken_s,
                "age_s": reading.age_s(self.clock()),
                "source": reading.source,
                "stale": self.is_stale(),
            },
            "failsafe": {"active": self.state.failsafe, "since_s": self.state.failsafe_since_s},
            "shares": [
                {
                    "station_id": s.station_id,
                    "current_a": s.current_a,
                    "power_w": s.power_w,
                    "binding": s.binding,
                    "priority": s.priority,
                }
                for s in self.state.shares.values()
            ],
        }


# ---- settings in the store and in a site file -------------------------------------------------


def site_to_stored(config: SiteConfig, by: str) -> StoredSite:
    return StoredSite(
        tuple(
            StoredCircuit(c.circuit_id, c.parent, c.phase_limit_a, c.power_limit_w) for c in config.circuits
        ),
        tuple(
            StoredSiteChargePoint(
                cp.station_id, cp.circuit_id, cp.phases, cp.max_current_a, cp.min_current_a, cp.priority
            )
            for cp in config.charge_points
        ),
        dict(config.token_priority),
        config.failsafe_current_a,
        config.voltage_v,
        datetime.now(UTC),
        by,
    )


def site_from_stored(stored: StoredSite) -> SiteConfig:
    """The stored settings, checked again by every rule (a hand-edited row is refused, naming it)."""
    return SiteConfig(
        circuits=tuple(
            Circuit(c.circuit_id, c.parent, c.phase_limit_a, c.power_limit_w) for c in stored.circuits
        ),
        charge_points=tuple(
            SiteChargePoint(
                cp.station_id, cp.circuit_id, cp.phases, cp.max_current_a, cp.min_current_a, cp.priority
            )
            for cp in stored.charge_points
        ),
        token_priority=dict(stored.token_priority),
        failsafe_current_a=stored.failsafe_current_a,
        voltage_v=stored.voltage_v,
    )


_CIRCUIT_KEYS = {"circuit_id": str, "parent": str, "phase_limit_a": float, "power_limit_w": float}
_CHARGE_POINT_KEYS = {
    "station_id": str,
    "circuit_id": str,
    "phases": str,
    "max_current_a": float,
    "min_current_a": float,
    "priority": int,
}
_SITE_KEYS = ("circuits", "charge_points", "token_priority", "failsafe_current_a", "voltage_v")


def _typed(name: str, value: object, kind: type) -> object:
    """``value`` as ``kind`` (str, float or int), or ValidationError naming the field."""
    if kind is str:
        if not isinstance(value, str):
            raise ValidationError(name, value, "must be text")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(name, value, "must be a number")
    if kind is int:
        if not float(value).is_integer():
            raise ValidationError(name, value, "must be a whole number")
        return int(value)
    return float(value)


def _record(name: str, item: object, keys: dict[str, type], required: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValidationError(name, str(item)[:40], "must be a mapping of settings")
    out: dict[str, Any] = {}
    for key, value in item.items():
        if key not in keys:
            raise ValidationError(f"{name}.{key}", value, f"unknown setting; one of {', '.join(keys)}")
        out[key] = (
            None if value is None and key not in required else _typed(f"{name}.{key}", value, keys[key])
        )
    for key in required:
        if key not in out:
            raise ValidationError(f"{name}.{key}", None, "required")
    return out


def site_from_mapping(data: object) -> SiteConfig:
    """The site settings from a parsed site file; every problem is one ValidationError naming the
    field (e.g. ``charge_points[2].circuit_id``) and the rule, then every rule of :func:`validate_site`."""
    if not isinstance(data, dict):
        raise ValidationError(
            "site", str(data)[:40], "a site file is a mapping with circuits and charge_points"
        )
    for key in data:
        if key not in _SITE_KEYS:
            raise ValidationError(str(key), data[key], f"unknown setting; one of {', '.join(_SITE_KEYS)}")
    circuits = data.get("circuits")
    if not isinstance(circuits, list) or not circuits:
        raise ValidationError("circuits", circuits, "a list of circuits, the first being the site connection")
    cps = data.get("charge_points", [])
    if not isinstance(cps, list):
        raise ValidationError("charge_points", cps, "a list of charge points")
    tokens = data.get("token_priority", {})
    if not isinstance(tokens, dict):
        raise ValidationError("token_priority", tokens, "a mapping of id token to priority")
    options: dict[str, Any] = {}
    for key in ("failsafe_current_a", "voltage_v"):
        if key in data:
            options[key] = _typed(key, data[key], float)
    return SiteConfig(
        circuits=tuple(
            Circuit(**_record(f"circuits[{i}]", c, _CIRCUIT_KEYS, ("circuit_id",)))
            for i, c in enumerate(circuits)
        ),
        charge_points=tuple(
            SiteChargePoint(
                **_record(f"charge_points[{i}]", cp, _CHARGE_POINT_KEYS, ("station_id", "circuit_id"))
            )
            for i, cp in enumerate(cps)
        ),
        token_priority={
            str(t): _typed(f"token_priority[{t!r}]", p, int)  # type: ignore[misc]
            for t, p in tokens.items()
        },
        **options,
    )


def load_site_file(path: Path) -> SiteConfig:
    """The site settings in a YAML or JSON file; DataFileError or ValidationError, one line each."""
    text = read_text(path)
    data = parse_yaml(text, str(path))
    try:
        return site_from_mapping(data)
    except ValidationError as exc:
        raise DataFileError(path.name, str(exc)) from None


def initial_config(repository: SiteRepository, from_file: SiteConfig | None) -> tuple[SiteConfig, str]:
    """The settings a starting CEM uses, and where they came from: the store's when it holds a
    site (changes made through the API survive a restart), else the site file's (then saved)."""
    stored = repository.load()
    if stored is not None:
        return site_from_stored(stored), f"the store (last changed by {stored.updated_by})"
    if from_file is None:
        raise ValidationError("site", None, "no site settings in the store: give --site FILE")
    repository.save(site_to_stored(from_file, "site file"))
    return from_file, "the site file"


async def start_site(
    gateway: CemGateway,
    engine: Engine,
    from_file: SiteConfig | None,
    meter_config: MqttMeterConfig | None,
    stale_s: float = METER_STALE_S,
) -> tuple[SiteService, str]:
    """The site service of a starting CEM (``cem serve --site-meter``): its settings from the
    store, else from the site file; its meter over MQTT, or emulated for ``None``. Every charge
    point starts on its fail-safe limit until the meter's first reading."""
    repository = SiteRepository(engine)
    config, origin = await asyncio.to_thread(initial_config, repository, from_file)
    meter: SiteMeter = EmulatedMeter() if meter_config is None else MqttMeter(meter_config)
    site = SiteService(gateway, config, meter, stale_s=stale_s, repository=repository)
    await site.reallocate()
    logger.info("site: settings from %s; %d charge points", origin, len(config.charge_points))
    return site, origin


async def run_site(site: SiteService, stop: asyncio.Event, period_s: float = WATCHDOG_S) -> None:
    """Run the site until ``stop``: the meter's transport, the watchdog, and for an emulated meter
    a reading every few seconds of the charge points' own draw (a site with no other load)."""
    meter = site.meter
    work = [site.watch(stop, period_s)]
    if isinstance(meter, MqttMeter):
        work.append(meter.run(stop))
    elif isinstance(meter, EmulatedMeter):
        work.append(_feed_emulated(site, meter, stop))
    # Not a task group: a meter transport that dies must not take the watchdog with it (the
    # watchdog then puts every charge point on its fail-safe limit once the data is stale).
    for result in await asyncio.gather(*work, return_exceptions=True):
        if isinstance(result, BaseException):
            logger.error("site task failed", exc_info=result)


async def _feed_emulated(site: SiteService, meter: EmulatedMeter, stop: asyncio.Event) -> None:
    while not stop.is_set():
        draw_w = sum(
            getattr(site.gateway.stations.get(cp.station_id), "power_w", 0.0)
            for cp in site.config.charge_points
        )
        await meter.publish(float(draw_w))
        try:
            await asyncio.wait_for(stop.wait(), EMULATED_METER_S)
        except TimeoutError:
            pass


__all__ = [
    "PHASE_NAMES",
    "SITE_MANAGER",
    "Actor",
    "ChargePointShare",
    "Circuit",
    "SiteAccessError",
    "SiteChargePoint",
    "SiteConfig",
    "SiteService",
    "SiteState",
    "initial_config",
    "load_site_file",
    "run_site",
    "site_from_mapping",
    "site_from_stored",
    "site_to_stored",
    "start_site",
    "validate_site",
]
