"""The DSRSP's batched writes: a flush returns only once every record received before it is stored
(SEC-D-9: a refused message is logged; a reader right after a flush must see it)."""

from __future__ import annotations

import asyncio
import threading

from smartcharge.openadr.model import SecurityNotice


async def test_flush_waits_for_a_batch_another_flush_has_in_flight(dsrsp, monkeypatch) -> None:
    gate = threading.Event()
    store_batch = dsrsp.store.add_batch

    def held_batch(*batch):
        gate.wait(10)
        store_batch(*batch)

    monkeypatch.setattr(dsrsp.store, "add_batch", held_batch)
    dsrsp.on_security(SecurityNotice(1, "vtn", "unknown_ven", 463, "VEN-X", "not registered"))
    in_flight = asyncio.create_task(dsrsp.flush())  # as the write loop does
    await asyncio.sleep(0.1)  # its batch is now in the worker thread, the lists are empty
    caller = asyncio.create_task(dsrsp.flush())
    await asyncio.sleep(0.1)
    assert not caller.done(), "flush returned while a batch was still being written"
    gate.set()
    await caller
    assert [r.kind for r in dsrsp.store.security_events()] == ["unknown_ven"]
    await in_flight
