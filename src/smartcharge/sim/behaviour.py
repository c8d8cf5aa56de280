"""Behaviour tables derived from real data (see ``smartcharge/data/behaviour/PROVENANCE.md``).

Loaded from the installed package only; ``scripts/derive_behaviour.py`` builds them at
development time. Three kinds of table:

- session behaviour (home: Norwegian residential set; public AC: Dundee and Perth & Kinross):
  plug-in hour-of-week histogram on the LOCAL clock, plug-in duration quantiles by plug-in hour,
  energy quantiles by duration band, sessions-per-week quantiles per charge point user;
- household base demand: Low Carbon London 2013 flat-tariff homes, half-hourly mean watts, UTC;
- GB national carbon intensity 2023, half-hourly, UTC.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from smartcharge.core.errors import DataFileError, ValidationError
from smartcharge.core.units import FloatArray
from smartcharge.sim.quantile import check_quantile_table

_PACKAGE = "smartcharge.data"
_FOLDER = "behaviour"
BEHAVIOURS = ("home_norway", "public_ac_scotland", "workplace_us")


def _path(name: str) -> str:
    return f"{_FOLDER}/{name}"


@dataclass(frozen=True, slots=True)
class SessionBehaviour:
    """Compact session statistics of one source; quantile tables share ``quantile_levels``."""

    name: str
    hour_of_week_p: FloatArray  # (168,) probability of a plug-in in each local hour of the week
    quantile_levels: FloatArray  # (Q,)
    duration_h_q: FloatArray  # (24, Q) plug-in duration quantiles by local plug-in hour
    band_edges_h: FloatArray  # (B+1,)
    energy_kwh_q: FloatArray  # (B, Q) energy quantiles by duration band
    sessions_per_week_q: FloatArray  # (Q,)
    source_stats: dict[str, float]
    # Per car, not per session (issue 14, item 1): the chain of stays.
    away_arrival_shape: FloatArray  # (168,) arrival intensity while away by local hour of week, mean 1
    arrivals_per_away_week_q: FloatArray  # (Q,) per owner: arrivals per week of time away
    gap_band_edges_h: FloatArray  # (C+1,) bands of the time away before a stay
    energy_kwh_q_by_gap: FloatArray  # (C, Q) energy asked by the time away before the stay
    energy_kwh_q_by_gap_duration: FloatArray  # (C, B, Q) the same, also by the stay's duration band
    owner_energy_factor_q: FloatArray  # (Q,) per owner: mean energy / all owners' mean
    owner_profiles: FloatArray  # (P, 2) per fitted owner: (arrivals per week away, energy factor)


def _array(table: dict[str, object], key: str, name: str) -> FloatArray:
    try:
        return np.asarray(table[key], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as exc:
        raise DataFileError(name, f"field {key!r} missing or not numeric: {exc}") from None


@cache
def load_session_behaviour(name: str) -> SessionBehaviour:
    """The packaged behaviour table ``name`` (one of :data:`BEHAVIOURS`)."""
    if name not in BEHAVIOURS:
        raise ValidationError("behaviour", name, f"unknown behaviour table; known: {', '.join(BEHAVIOURS)}")
    file = _path(f"{name}.json")
    try:
        text = resources.files(_PACKAGE).joinpath(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError(file, "missing from the installed package") from None
    return parse_session_behaviour(text, name, file)


def read_session_behaviour(path: Path) -> SessionBehaviour:
    """A behaviour table from a JSON file of the packaged tables' shape (a scenario's own data)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError(str(path), "behaviour file not found") from None
    except OSError as exc:
        raise DataFileError(str(path), f"unreadable: {exc}") from None
    return parse_session_behaviour(text, path.stem, str(path))


def parse_session_behaviour(text: str, name: str, file: str) -> SessionBehaviour:
    """Check and load one behaviour table's JSON text; ``file`` names it in errors."""
    try:
        table = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFileError(file, f"not valid JSON: {exc}") from None
    if not isinstance(table, dict) or not isinstance(table.get("source_stats", {}), dict):
        raise DataFileError(file, "expected a JSON object with the behaviour table fields")
    counts = _array(table, "hour_of_week_counts", file)
    if counts.shape != (168,) or counts.sum() <= 0:
        raise DataFileError(file, "hour_of_week_counts must hold 168 non-negative counts")
    levels = _array(table, "quantile_levels", file)
    duration = _array(table, "duration_h_quantiles_by_plugin_hour", file)
    edges = _array(table, "duration_band_edges_h", file)
    energy = _array(table, "energy_kwh_quantiles_by_duration_band", file)
    rate = _array(table, "sessions_per_week_quantiles", file)
    q = levels.shape[0]
    if q < 2 or duration.shape != (24, q) or energy.shape != (edges.shape[0] - 1, q) or rate.shape != (q,):
        raise DataFileError(
            file, "quantile tables must be (24, Q), (bands, Q) and (Q,) for Q quantile levels"
        )
    if np.any(duration <= 0) or np.any(energy < 0) or np.any(rate < 0):
        raise DataFileError(file, "durations must be > 0 h, energies and rates >= 0")
    shape = _array(table, "away_arrival_shape_by_hour_of_week", file)
    arrivals = _array(table, "arrivals_per_away_week_quantiles", file)
    gap_edges = _array(table, "gap_band_edges_h", file)
    by_gap = _array(table, "energy_kwh_quantiles_by_gap_band", file)
    factor = _array(table, "owner_energy_factor_quantiles", file)
    if shape.shape != (168,) or np.any(shape < 0) or shape.sum() <= 0:
        raise DataFileError(file, "away_arrival_shape_by_hour_of_week must hold 168 values >= 0")
    if arrivals.shape != (q,) or factor.shape != (q,) or by_gap.shape != (gap_edges.shape[0] - 1, q):
        raise DataFileError(file, "chain tables must be (Q,), (Q,) and (gap bands, Q)")
    if np.any(arrivals <= 0) or np.any(by_gap < 0) or np.any(factor < 0):
        raise DataFileError(file, "arrival rates must be > 0, energies and factors >= 0")
    by_gap_duration = _array(table, "energy_kwh_quantiles_by_gap_and_duration_band", file)
    if by_gap_duration.shape != (by_gap.shape[0], edges.shape[0] - 1, q) or np.any(by_gap_duration < 0):
        raise DataFileError(
            file, "energy by gap and duration band must be (gap bands, duration bands, Q), >= 0"
        )
    profiles = _array(table, "owner_profiles", file)
    if profiles.ndim != 2 or profiles.shape[1] != 2 or profiles.shape[0] < 1 or np.any(profiles[:, 0] <= 0):
        raise DataFileError(
            file, "owner_profiles must be rows of (arrivals per week away > 0, energy factor)"
        )
    for field, values in (
        ("duration_h_quantiles_by_plugin_hour", duration),
        ("energy_kwh_quantiles_by_duration_band", energy),
        ("sessions_per_week_quantiles", rate),
        ("arrivals_per_away_week_quantiles", arrivals),
        ("owner_energy_factor_quantiles", factor),
        ("energy_kwh_quantiles_by_gap_band", by_gap),
        ("energy_kwh_quantiles_by_gap_and_duration_band", by_gap_duration),
    ):
        problem = check_quantile_table(levels, values, field)
        if problem is not None:
            raise DataFileError(file, problem)
    return SessionBehaviour(
        name=name,
        hour_of_week_p=counts / counts.sum(),
        quantile_levels=_array(table, "quantile_levels", file),
        duration_h_q=_array(table, "duration_h_quantiles_by_plugin_hour", file),
        band_edges_h=_array(table, "duration_band_edges_h", file),
        energy_kwh_q=_array(table, "energy_kwh_quantiles_by_duration_band", file),
        sessions_per_week_q=_array(table, "sessions_per_week_quantiles", file),
        source_stats={k: float(v) for k, v in dict(table.get("source_stats", {})).items()},
        away_arrival_shape=shape * 168.0 / shape.sum(),
        arrivals_per_away_week_q=arrivals,
        gap_band_edges_h=gap_edges,
        energy_kwh_q_by_gap=by_gap,
        energy_kwh_q_by_gap_duration=by_gap_duration,
        owner_energy_factor_q=factor,
        owner_profiles=profiles,
    )


@cache
def load_calibration() -> dict[str, Any]:
    """The packaged calibration check (issue 14, item 2): per behaviour and quantity, the
    Kolmogorov-Smirnov distance of the simulator's chains to the held-back owners' stays.

    Shape: ``{"method": str, "behaviours": {name: {"owners_fit", "owners_held_out", "stays_fit",
    "stays_held_out", "checks": {quantity: {"ks_sim_vs_held_out", "ks_fit_vs_held_out",
    "median_sim", "median_held_out", "n_sim", "n_held_out"}}}}}``; quantities are
    ``plug_in_duration_h``, ``energy_per_stay_kwh``, ``stays_per_week``, ``energy_per_week_kwh``
    (both per week in use, ``sim.stays.stays_per_week_in_use``), ``arrival_hour``,
    ``departure_hour``. Built by ``scripts/derive_behaviour.py``.
    """
    file = _path("calibration.json")
    try:
        text = resources.files(_PACKAGE).joinpath(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError(file, "missing from the installed package") from None
    try:
        data: dict[str, Any] = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFileError(file, f"not valid JSON: {exc}") from None
    return data


@dataclass(frozen=True, slots=True)
class BaseDemand:
    """Half-hourly mean demand of real homes over one year, UTC; shape (homes, 17520)."""

    base_w: np.ndarray  # uint16 watts
    start_s: int  # UTC epoch s of column 0
    step_s: int = 1800
    electric_heating: np.ndarray | None = None  # (homes,) bool, marked from the home's own demand
    night_storage: np.ndarray | None = None  # (homes,) bool, a storage / Economy 7 switch-on at midnight


@cache
def load_base_demand() -> BaseDemand:
    """Low Carbon London 2013 flat-tariff household demand (LCL ``tstp`` is GMT = UTC)."""
    file = _path("lcl_base_w.npz")
    try:
        with resources.files(_PACKAGE).joinpath(file).open("rb") as handle:
            data = np.load(handle)
            base_w = data["base_w"]
            heating = data["electric_heating"].astype(bool) if "electric_heating" in data else None
            storage = data["night_storage"].astype(bool) if "night_storage" in data else None
    except FileNotFoundError:
        raise DataFileError(file, "missing from the installed package") from None
    except (KeyError, ValueError, OSError) as exc:
        raise DataFileError(file, f"unreadable: {exc}") from None
    if base_w.ndim != 2 or base_w.shape[1] != 17520:
        raise DataFileError(file, f"expected (homes, 17520) half-hours, found {base_w.shape}")
    return BaseDemand(base_w, 1356998400, 1800, heating, storage)  # 2013-01-01T00:00Z


@dataclass(frozen=True, slots=True)
class CarbonSeries:
    """GB national carbon intensity, half-hourly from ``start_s`` (UTC), gCO2 per kWh."""

    intensity_g_per_kwh: FloatArray  # (17520,)
    start_s: int
    step_s: int = 1800


@cache
def load_carbon() -> CarbonSeries:
    """NESO Carbon Intensity API national series for 2023, gap-filled (see PROVENANCE.md)."""
    file = _path("carbon_2023_halfhourly.csv")
    try:
        with resources.files(_PACKAGE).joinpath(file).open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        values = np.array([float(r["intensity_gco2_per_kwh"]) for r in rows])
    except FileNotFoundError:
        raise DataFileError(file, "missing from the installed package") from None
    except (KeyError, ValueError) as exc:
        raise DataFileError(file, f"malformed: {exc}") from None
    if values.shape != (17520,):
        raise DataFileError(file, f"expected 17520 half-hours of 2023, found {values.shape[0]}")
    return CarbonSeries(intensity_g_per_kwh=values, start_s=1672531200)  # 2023-01-01T00:00Z


__all__ = [
    "BEHAVIOURS",
    "BaseDemand",
    "CarbonSeries",
    "SessionBehaviour",
    "load_base_demand",
    "load_calibration",
    "load_carbon",
    "load_session_behaviour",
    "parse_session_behaviour",
    "read_session_behaviour",
]
