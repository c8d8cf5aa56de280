"""Refusals at the VTN over real HTTPS with client certificates and signed messages (SEC-S-8).

Each refusal must come back as an OpenADR response code and be reported as a security notice
(SEC-D-9); clock skew beyond the replay window must be logged in plain words.
"""

from __future__ import annotations

import logging
import re
import ssl

import aiohttp
import pytest
from openleadr.messaging import create_message

from smartcharge.openadr.model import StatusCode
from smartcharge.openadr.ven import VenAdapter, VenConfig, VenError

pytestmark = pytest.mark.integration

_CODE = re.compile(r"<ei:responseCode>(\d+)</ei:responseCode>")


async def _post(vtn, pki, service: str, xml: str, tls_leaf: str = "cem") -> tuple[int, str]:
    context = ssl.create_default_context(cafile=str(pki.ca))
    leaf = pki.leaves[tls_leaf]
    context.load_cert_chain(str(leaf.cert), str(leaf.key))
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session,
        session.post(
            f"{vtn.adapter.url}/{service}", data=xml, headers={"content-type": "application/xml"}
        ) as reply,
    ):
        return reply.status, await reply.text()


def _signed(pki, leaf: str, message_type: str, **payload) -> str:
    paths = pki.leaves[leaf]
    return create_message(message_type, cert=paths.cert.read_bytes(), key=paths.key.read_bytes(), **payload)


async def _registered(vtn, pki) -> VenAdapter:
    ven = VenAdapter(
        VenConfig(
            "cem",
            vtn.adapter.url,
            pki.leaves["vtn"].fingerprint,
            pki.leaves["cem"].cert,
            pki.leaves["cem"].key,
            pki.ca,
        )
    )
    await ven.register()
    return ven


def _code(text: str) -> int:
    found = _CODE.search(text)
    assert found is not None, text
    return int(found.group(1))


async def test_registration_enrolled_certificate_accepted(vtn, pki) -> None:
    """SEC-S-8: an enrolled CEM certificate registers and gets its VEN id (INT-5)."""
    ven = await _registered(vtn, pki)
    try:
        assert ven.registration is not None
        assert ven.registration.ven_id == "VEN-CEM"
        assert ven.registration.vtn_id == "DSRSP-TEST"
        assert vtn.listener.security == []
    finally:
        await ven.close()


async def test_registration_unknown_certificate_refused_463(vtn, pki) -> None:
    """SEC-S-8: a certificate the DSRSP never enrolled cannot register; 463 and a security notice."""
    ven = VenAdapter(
        VenConfig(
            "intruder",
            vtn.adapter.url,
            pki.leaves["vtn"].fingerprint,
            pki.leaves["intruder"].cert,
            pki.leaves["intruder"].key,
            pki.ca,
        )
    )
    try:
        with pytest.raises(VenError, match="463"):
            await ven.register()
    finally:
        await ven.close()
    assert [(n.kind, n.code) for n in vtn.listener.security] == [("unknown_certificate", 463)]


async def test_unsigned_message_refused_463(vtn, pki) -> None:
    """SEC-S-8: over TLS every message must be signed; an unsigned poll is refused with 463."""
    ven = await _registered(vtn, pki)
    await ven.close()
    status, text = await _post(vtn, pki, "OadrPoll", create_message("oadrPoll", ven_id="VEN-CEM"))
    assert status == 200
    assert _code(text) == StatusCode.NOT_REGISTERED_OR_AUTHORIZED
    assert vtn.listener.security[-1].kind == "unsigned_message"


async def test_replayed_nonce_refused_463(vtn, pki) -> None:
    """SEC-S-8: the same signed message sent twice is refused the second time (replay)."""
    ven = await _registered(vtn, pki)
    await ven.close()
    message = _signed(pki, "cem", "oadrPoll", ven_id="VEN-CEM")
    first_status, first = await _post(vtn, pki, "OadrPoll", message)
    assert first_status == 200 and "<ei:responseCode>200" in first
    _, second = await _post(vtn, pki, "OadrPoll", message)
    assert _code(second) == StatusCode.NOT_REGISTERED_OR_AUTHORIZED
    assert vtn.listener.security[-1].kind == "replayed_nonce"


async def test_wrongly_signed_message_refused_463(vtn, pki) -> None:
    """SEC-S-8: a message signed with another certificate than the registered one is refused."""
    ven = await _registered(vtn, pki)
    await ven.close()
    message = _signed(pki, "intruder", "oadrPoll", ven_id="VEN-CEM")
    _, text = await _post(vtn, pki, "OadrPoll", message)
    assert _code(text) == StatusCode.NOT_REGISTERED_OR_AUTHORIZED
    assert vtn.listener.security[-1].kind == "wrong_signer"


async def test_tampered_message_refused_463(vtn, pki) -> None:
    """SEC-S-8: a signed message altered after signing fails signature verification."""
    ven = await _registered(vtn, pki)
    await ven.close()
    message = _signed(pki, "cem", "oadrRequestEvent", ven_id="VEN-CEM", request_id="r1", reply_limit=None)
    tampered = message.replace(">r1<", ">r2<")
    assert tampered != message
    _, text = await _post(vtn, pki, "EiEvent", tampered)
    assert _code(text) == StatusCode.NOT_REGISTERED_OR_AUTHORIZED
    assert vtn.listener.security[-1].kind in {"bad_signature", "wrong_signer"}


async def test_unknown_ven_refused_463(vtn, pki) -> None:
    """SEC-S-8: a VEN id that is not registered (never, or after cancelling) is refused."""
    message = _signed(pki, "cem", "oadrPoll", ven_id="VEN-NOBODY")
    _, text = await _post(vtn, pki, "OadrPoll", message)
    assert _code(text) == StatusCode.NOT_REGISTERED_OR_AUTHORIZED
    assert vtn.listener.security[-1].kind == "unknown_ven"


async def test_deregistered_ven_refused_after_cancel(vtn, pki) -> None:
    """INT-6: after oadrCancelPartyRegistration the VEN's next message is refused (463)."""
    ven = await _registered(vtn, pki)
    try:
        await ven.cancel_registration()
        with pytest.raises(VenError, match="463"):
            await ven.poll()
    finally:
        await ven.close()
    assert vtn.listener.security[-1].kind == "unknown_ven"


async def test_clock_skew_behind_refused_and_logged_in_plain_words(make_vtn, pki, caplog) -> None:
    """SEC-S-8: a VEN clock 30 s behind the VTN is outside the 5 s replay window: 463, logged plainly."""
    vtn = await make_vtn(clock_offset_s=30.0)
    with caplog.at_level(logging.WARNING, logger="smartcharge.openadr.vtn"):
        message = _signed(pki, "cem", "oadrQueryRegistration", request_id="q1")
        _, text = await _post(vtn, pki, "EiRegisterParty", message)
    assert _code(text) == StatusCode.NOT_REGISTERED_OR_AUTHORIZED
    assert vtn.listener.security[-1].kind == "stale_timestamp"
    assert any("behind our clock, beyond the 5 s replay window" in r.getMessage() for r in caplog.records)


async def test_clock_skew_ahead_logged_in_plain_words(make_vtn, pki, caplog) -> None:
    """SEC-S-8: a VEN clock 30 s ahead is reported in the log in plain words."""
    vtn = await make_vtn(clock_offset_s=-30.0)
    with caplog.at_level(logging.WARNING, logger="smartcharge.openadr.vtn"):
        message = _signed(pki, "cem", "oadrQueryRegistration", request_id="q2")
        await _post(vtn, pki, "EiRegisterParty", message)
    assert any("ahead of our clock, beyond the 5 s replay window" in r.getMessage() for r in caplog.records)


async def test_ven_refuses_message_from_untrusted_vtn(vtn, pki) -> None:
    """SEC-S-8: the VEN refuses answers not signed by the VTN certificate the owner consented to."""
    notices = []
    ven = VenAdapter(
        VenConfig(
            "cem",
            vtn.adapter.url,
            pki.leaves["other_vtn"].fingerprint,  # the consented provider is someone else
            pki.leaves["cem"].cert,
            pki.leaves["cem"].key,
            pki.ca,
        ),
        on_security=notices.append,
    )
    try:
        with pytest.raises(VenError, match="not signed by the consented VTN"):
            await ven.register()
    finally:
        await ven.close()
    assert [n.kind for n in notices] == ["untrusted_vtn_signer"]
