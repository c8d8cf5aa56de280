"""Security-log write cost on SQLite (issue 15): a storm of identical bad frames against distinct
events. Identical events are aggregated (one row plus counted repeats); distinct events each cost
one HMAC and one fsync'd commit.

    .venv/bin/python benchmarks/bench_security_log.py [--storm 1000] [--distinct 200]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime

from smartcharge.cem.service import open_store
from smartcharge.store.security_log import SecurityEventRecord


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--storm", type=int, default=1000)
    parser.add_argument("--distinct", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        store = open_store(f"sqlite:///{directory}/cem.db")
        log = store.security
        start = time.perf_counter()
        for _ in range(args.storm):
            log.record(
                SecurityEventRecord(
                    datetime.now(UTC), "S1", "InvalidMessages", "malformed_frame", "127.0.0.1"
                )
            )
        log.flush()
        storm_s = time.perf_counter() - start
        print(
            f"{args.storm} identical events: {storm_s:.3f} s, {log.rows()} rows,"
            f" count {log.count('InvalidMessages')}"
        )
        start = time.perf_counter()
        for i in range(args.distinct):
            log.record(SecurityEventRecord(datetime.now(UTC), "S1", f"E{i}", "distinct", None))
        distinct_s = time.perf_counter() - start
        print(
            f"{args.distinct} distinct events: {distinct_s:.3f} s"
            f" ({distinct_s / args.distinct * 1000:.1f} ms each)"
        )
        start = time.perf_counter()
        result = log.verify()
        print(f"verify {result.checked} entries: {time.perf_counter() - start:.3f} s, ok={result.ok}")
        print(f"load average {os.getloadavg()[0]:.1f}")
        store.engine.dispose()


if __name__ == "__main__":
    main()
