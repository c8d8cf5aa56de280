"""DSRSP fixtures: a DSRSP in process with its test certificates."""

from __future__ import annotations

import pytest


@pytest.fixture
async def dsrsp(tmp_path):
    """DSRSP-A in process, with an operator certificate and the CEM enrolled."""
    import datetime as dt

    from smartcharge.dsrsp.service import DsrspService
    from smartcharge.openadr.pki import issue_pki
    from smartcharge.openadr.vtn import VtnConfig
    from smartcharge.store.base import make_engine
    from smartcharge.store.consent import DsrspStore
    from smartcharge.store.migrate import upgrade

    ca, leaves = issue_pki(tmp_path / "pki", ["vtn", "cem", "operator"], dt.datetime.now(dt.UTC))
    engine = make_engine(f"sqlite:///{tmp_path / 'dsrsp.db'}")
    upgrade(engine)
    config = VtnConfig(
        "DSRSP-A",
        leaves["vtn"].cert,
        leaves["vtn"].key,
        ca,
        port=0,
        operator_fingerprints=frozenset({leaves["operator"].fingerprint}),
    )
    service = DsrspService(config, DsrspStore(engine))
    service.registry.enrol(leaves["cem"].fingerprint, "home-cem")
    await service.start()
    service.test_pki = (ca, leaves)  # type: ignore[attr-defined]
    yield service
    await service.stop()
    engine.dispose()
