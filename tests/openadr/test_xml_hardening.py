"""Hostile XML and replayed registrations at the VTN, over real HTTPS (SEC-S-8, SEC-D-9, report 6.1).

Found on main: a 400-byte "billion laughs" document made the DSRSP segfault inside lxml; an XXE
document and a body that is not XML got HTTP 500; CreatePartyRegistration and QueryRegistration
accepted replayed or altered signed messages; the guard read venID with a regex that assumed the
``ei:`` prefix and logged refusals under the venID the sender claimed.
"""

from __future__ import annotations

import re

import pytest
from test_refusals import _code, _post, _registered, _signed

from smartcharge.openadr.model import StatusCode
from smartcharge.openadr.xml_guard import MAX_XML_BYTES, UnsafeXmlError, parse_untrusted, peek

pytestmark = pytest.mark.integration

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<lolz>&lol9;</lolz>"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>
<oadrPayload xmlns="http://openadr.org/oadr-2.0b/2012/07">&xxe;</oadrPayload>"""

PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE p [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]><p/>"""


def _registration(pki, leaf: str = "cem", request_id: str = "reg-1") -> str:
    return _signed(
        pki,
        leaf,
        "oadrCreatePartyRegistration",
        request_id=request_id,
        ven_name="cem",
        ven_id=None,
        http_pull_model=True,
        xml_signature=True,
        report_only=False,
        profile_name="2.0b",
        transport_name="simpleHttp",
        transport_address=None,
        registration_id=None,
    )


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        (BILLION_LAUGHS, "document type declarations"),
        (XXE, "document type declarations"),
        (PARAMETER_ENTITY, "document type declarations"),
        ("this is not xml", "not well-formed XML"),
        ('<?xml-stylesheet href="x"?><p/>', "processing instructions"),
    ],
)
async def test_hostile_bodies_get_an_openadr_error_and_the_vtn_lives(vtn, pki, body: str, rule: str) -> None:
    status, text = await _post(vtn, pki, "EiRegisterParty", body)
    assert status == 200, text
    assert _code(text) == StatusCode.INVALID_DATA
    assert rule in text
    assert "hostname" not in text and "lollol" not in text
    notice = vtn.listener.security[-1]
    assert notice.kind == "unsafe_xml" and rule in notice.detail
    assert notice.peer == pki.leaves["cem"].fingerprint
    ven = await _registered(vtn, pki)  # still serving
    try:
        assert ven.registration is not None
    finally:
        await ven.close()


def test_parse_untrusted_caps_size_and_keeps_entities_unexpanded() -> None:
    with pytest.raises(UnsafeXmlError, match="larger than"):
        parse_untrusted(b"<a>" + b"x" * MAX_XML_BYTES + b"</a>")
    assert parse_untrusted(b"<a>&amp;</a>").text == "&"


def test_venid_is_read_by_namespace_not_by_prefix() -> None:
    body = (
        b'<p:oadrPayload xmlns:p="http://openadr.org/oadr-2.0b/2012/07">'
        b'<p:oadrSignedObject><p:oadrPoll xmlns:q="http://docs.oasis-open.org/ns/energyinterop/201110">'
        b"<q:venID>VEN-CEM</q:venID></p:oadrPoll></p:oadrSignedObject></p:oadrPayload>"
    )
    peeked = peek(body)
    assert (peeked.message_type, peeked.ven_id) == ("oadrPoll", "VEN-CEM")


async def test_replayed_create_party_registration_refused(vtn, pki) -> None:
    message = _registration(pki)
    _, first = await _post(vtn, pki, "EiRegisterParty", message)
    assert _code(first) == StatusCode.OK, first
    _, second = await _post(vtn, pki, "EiRegisterParty", message)
    assert _code(second) == StatusCode.NOT_REGISTERED_OR_AUTHORIZED
    assert vtn.listener.security[-1].kind == "replayed_nonce"


async def test_altered_create_party_registration_refused(vtn, pki) -> None:
    message = _registration(pki, request_id="reg-2")
    altered = message.replace(">reg-2<", ">reg-3<")
    assert altered != message
    _, text = await _post(vtn, pki, "EiRegisterParty", altered)
    assert _code(text) == StatusCode.NOT_REGISTERED_OR_AUTHORIZED
    assert vtn.listener.security[-1].kind == "bad_signature"
    assert vtn.directory.records == {}  # nothing registered


async def test_registration_signed_by_another_certificate_refused(vtn, pki) -> None:
    message = _registration(pki, leaf="intruder", request_id="reg-4")
    _, text = await _post(vtn, pki, "EiRegisterParty", message, tls_leaf="cem")
    assert _code(text) == StatusCode.NOT_REGISTERED_OR_AUTHORIZED
    assert vtn.listener.security[-1].kind == "wrong_signer"


async def test_replayed_query_registration_refused(vtn, pki) -> None:
    message = _signed(pki, "cem", "oadrQueryRegistration", request_id="q-1")
    _, first = await _post(vtn, pki, "EiRegisterParty", message)
    assert _code(first) == StatusCode.OK, first
    _, second = await _post(vtn, pki, "EiRegisterParty", message)
    assert _code(second) == StatusCode.NOT_REGISTERED_OR_AUTHORIZED
    assert vtn.listener.security[-1].kind == "replayed_nonce"


async def test_refusals_are_logged_under_the_certificate_not_the_claimed_ven(vtn, pki) -> None:
    ven = await _registered(vtn, pki)
    await ven.close()
    message = _signed(pki, "intruder", "oadrPoll", ven_id="VEN-CEM")
    _, text = await _post(vtn, pki, "OadrPoll", message, tls_leaf="intruder")
    assert _code(text) == StatusCode.NOT_REGISTERED_OR_AUTHORIZED
    notice = vtn.listener.security[-1]
    assert notice.peer == pki.leaves["intruder"].fingerprint
    assert re.search(r"claims venID VEN-CEM", notice.detail)
