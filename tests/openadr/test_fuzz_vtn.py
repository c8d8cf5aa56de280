"""Fuzzing the VTN over real HTTPS with hostile and malformed OpenADR bodies, bounded in count.

Every body gets an OpenADR answer (HTTP 200 with a response code >= 400), never a 5xx or a dropped
connection, and the VTN still registers a real VEN afterwards (SEC-S-8, report 6.1). The run prints
what it tried.
"""

from __future__ import annotations

import random

import pytest
from test_refusals import _code, _post, _registered, _signed

pytestmark = pytest.mark.integration

ENTITY_KINDS = [
    '<!DOCTYPE a [<!ENTITY e "{x}">]><a>&e;</a>',
    '<!DOCTYPE a [<!ENTITY e SYSTEM "file:///{x}">]><a>&e;</a>',
    '<!DOCTYPE a SYSTEM "http://127.0.0.1:9/{x}.dtd"><a/>',
    '<!DOCTYPE a [<!ENTITY % p SYSTEM "http://127.0.0.1:9/{x}"> %p;]><a/>',
    "<?xml-stylesheet href='{x}'?><a/>",
    "<a>{x}",
    "<a><b>{x}</a></b>",
    "{x}",
]


def _bodies(rng: random.Random, signed: str) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    for template in ENTITY_KINDS:
        out.append(("entity/DTD/malformed", template.replace("{x}", "x" * rng.randint(0, 50)).encode()))
    for _ in range(20):
        out.append(("random bytes", bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))))
    for _ in range(20):  # a real signed message, cut or with bytes flipped
        data = bytearray(signed.encode())
        if rng.random() < 0.5:
            data = data[: rng.randint(0, len(data))]
        else:
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(32, 127)
        out.append(("mutated signed message", bytes(data)))
    out.append(("deep nesting", b"<a>" * 5000 + b"</a>" * 5000))
    out.append(("near the size cap", b"<a>" + b"y" * (900 * 1024) + b"</a>"))
    return out


async def test_hostile_bodies_always_get_an_openadr_answer(vtn, pki) -> None:
    rng = random.Random(20261202)
    signed = _signed(pki, "cem", "oadrQueryRegistration", request_id="fuzz")
    tried: dict[str, int] = {}
    for kind, body in _bodies(rng, signed):
        status, text = await _post(vtn, pki, "EiRegisterParty", body.decode("latin-1"))
        assert status == 200, (kind, status, text[:200])
        assert _code(text) >= 400, (kind, text[:200])
        tried[kind] = tried.get(kind, 0) + 1
    print("VTN fuzzing tried:", ", ".join(f"{n} {k}" for k, n in tried.items()))
    assert len(vtn.listener.security) == sum(tried.values())  # every refusal is a security event
    ven = await _registered(vtn, pki)
    try:
        assert ven.registration is not None
    finally:
        await ven.close()
