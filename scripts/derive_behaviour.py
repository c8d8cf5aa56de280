"""Derive the simulator's compact behaviour tables from the shared calibration data.

Run at DEVELOPMENT time only (the installed package never reads the raw data)::

    python scripts/derive_behaviour.py --data ../shared/data --out src/smartcharge/data/behaviour

Writes small files that ``smartcharge.sim.behaviour`` loads at run time:

- ``home_norway.json``, ``public_ac_scotland.json``: session behaviour tables (hour-of-week
  plug-in histogram, plug-in duration quantiles by plug-in hour, energy quantiles by duration
  band, sessions-per-week quantiles) plus the source's own summary statistics for the tests.
- ``lcl_base_w.npz``: half-hourly demand of the Low Carbon London flat-tariff homes in 2013,
  whole watts (uint16), gaps filled from the same home's same-month half-hour mean.
- ``carbon_2023_halfhourly.csv``: the gap-filled NESO 2023 national series, copied as-is.

Time bases: Norway and Dundee/Perth times are local wall-clock times and are kept as local clock
fields (hour of week); LCL ``tstp`` and carbon are UTC and are kept in UTC.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

QUANTILES = np.linspace(0.0, 1.0, 41)
DURATION_BANDS_H = [0.0, 2.0, 4.0, 8.0, 12.0, 24.0, 72.0]
MAX_DURATION_H = 72.0


def _quantiles(values: pd.Series) -> list[float]:
    return [round(float(v), 4) for v in np.quantile(values.to_numpy(dtype=float), QUANTILES)]


def _session_table(
    plugin: pd.Series, plugout: pd.Series, energy_kwh: pd.Series, owner: pd.Series, name: str, source: str
) -> dict[str, object]:
    duration_h = (plugout - plugin).dt.total_seconds() / 3600.0
    ok = (duration_h > 0) & (duration_h <= MAX_DURATION_H) & (energy_kwh > 0) & (energy_kwh <= 150)
    plugin, duration_h, energy_kwh, owner = plugin[ok], duration_h[ok], energy_kwh[ok], owner[ok]
    hour_of_week = plugin.dt.weekday * 24 + plugin.dt.hour
    how_counts = np.bincount(hour_of_week.to_numpy(), minlength=168)
    hour = plugin.dt.hour.to_numpy()
    duration_by_hour = []
    for h in range(24):
        sel = duration_h[hour == h]
        duration_by_hour.append(_quantiles(sel if len(sel) >= 30 else duration_h))
    band = np.digitize(duration_h.to_numpy(), DURATION_BANDS_H[1:-1])
    energy_by_band = []
    for b in range(len(DURATION_BANDS_H) - 1):
        sel = energy_kwh[band == b]
        energy_by_band.append(_quantiles(sel if len(sel) >= 30 else energy_kwh))
    frame = pd.DataFrame({"owner": owner.to_numpy(), "t": plugin.to_numpy()})
    span = frame.groupby("owner")["t"].agg(["min", "max", "count"])
    weeks = (span["max"] - span["min"]).dt.total_seconds() / (7 * 86400.0)
    rate = (span["count"] / weeks)[weeks >= 4.0]
    minute_of_day = plugin.dt.hour * 60 + plugin.dt.minute
    return {
        "name": name,
        "source": source,
        "n_sessions": int(ok.sum()),
        "n_owners_for_rate": len(rate),
        "hour_of_week_counts": how_counts.tolist(),
        "quantile_levels": [round(float(q), 4) for q in QUANTILES],
        "duration_h_quantiles_by_plugin_hour": duration_by_hour,
        "duration_band_edges_h": DURATION_BANDS_H,
        "energy_kwh_quantiles_by_duration_band": energy_by_band,
        "sessions_per_week_quantiles": _quantiles(rate),
        "source_stats": {
            "median_plugin_minute_of_day": float(np.median(minute_of_day)),
            "median_energy_kwh": float(np.median(energy_kwh)),
            "median_duration_h": float(np.median(duration_h)),
            "median_sessions_per_week": float(np.median(rate)),
            "mean_sessions_per_week": float(np.mean(rate)),
            "weekday_share": float(np.mean(plugin.dt.weekday < 5)),
        },
    }


def derive_norway(data: Path) -> dict[str, object]:
    frame = pd.read_csv(data / "norway-residential-ev-sessions-2018-2021/norway_sessions_harmonised.csv.gz")
    plugin = pd.to_datetime(frame["plugin_local"])
    plugout = pd.to_datetime(frame["plugout_local"])
    return _session_table(
        plugin, plugout, frame["energy_kwh"], frame["user_id"], "home_norway", "Sorensen et al. 2024"
    )


def derive_public(data: Path) -> dict[str, object]:
    parts = []
    for folder in ("dundee-ev-sessions-2017-2018", "perth-kinross-ev-sessions-2016-2019"):
        path = next((data / folder).glob("*_sessions_harmonised.csv.gz"))
        part = pd.read_csv(path)
        part = part[
            (part["valid"].astype(str) == "True")
            & part["charger_class"].isin(["slow_ac_7kW", "fast_ac_22kW"])
        ]
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    plugin = pd.to_datetime(frame["plugin_local"])
    plugout = pd.to_datetime(frame["plugout_local"])
    owner = (
        frame["council"].astype(str) + ":" + frame["cp_id"].astype(str) + ":" + frame["connector"].astype(str)
    )
    return _session_table(
        plugin,
        plugout,
        frame["energy_kwh"].astype(float),
        owner,
        "public_ac_scotland",
        "Dundee City Council 2017-18 and Perth & Kinross Council 2016-19 (AC posts)",
    )


def derive_lcl(data: Path, out: Path) -> dict[str, object]:
    folder = data / "lcl-london-households-2013"
    info = pd.read_csv(folder / "lcl_households_info.csv")
    std_ids = set(info.loc[info["stdorToU"] == "Std", "LCLid"])
    frame = pd.read_csv(folder / "lcl_2013_100_households_halfhourly.csv.gz")
    frame = frame[frame["LCLid"].isin(std_ids)]
    frame["tstp"] = pd.to_datetime(frame["tstp"])
    frame["kwh"] = pd.to_numeric(frame["energy(kWh/hh)"], errors="coerce")
    grid = pd.date_range("2013-01-01", periods=17520, freq="30min")
    kept, series = [], []
    for lcl_id, part in frame.groupby("LCLid"):
        s = part.set_index("tstp")["kwh"].groupby(level=0).mean().reindex(grid)
        if s.notna().mean() < 0.95:
            continue
        fill = s.groupby([s.index.month, s.index.hour, s.index.minute]).transform("mean")
        s = s.fillna(fill).fillna(s.mean())
        kept.append(lcl_id)
        series.append(np.round(s.to_numpy() * 2000.0))  # kWh per half hour -> mean W
    base_w = np.clip(np.stack(series), 0, 65535).astype(np.uint16)
    np.savez_compressed(out / "lcl_base_w.npz", base_w=base_w, start_utc=np.array("2013-01-01T00:00Z"))
    mean_kw = base_w.astype(float).mean() / 1000.0
    group_admd_kw = base_w.astype(float).sum(axis=0).max() / len(kept) / 1000.0
    return {"households": kept, "mean_kw": round(mean_kw, 4), "group_admd_kw": round(group_admd_kw, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the shared calibration data folder")
    parser.add_argument("--out", type=Path, required=True, help="src/smartcharge/data/behaviour")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for table in (derive_norway(args.data), derive_public(args.data)):
        (args.out / f"{table['name']}.json").write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    lcl = derive_lcl(args.data, args.out)
    (args.out / "lcl_base_summary.json").write_text(json.dumps(lcl, indent=1) + "\n", encoding="utf-8")
    shutil.copyfile(
        args.data / "gb-carbon-intensity-2023/gb_carbon_intensity_2023_halfhourly_filled.csv",
        args.out / "carbon_2023_halfhourly.csv",
    )


if __name__ == "__main__":
    main()
