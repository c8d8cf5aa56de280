"""Safe parsing of OpenADR XML from a peer, before openleadr sees it (SEC-S-8, report 6.1).

openleadr parses every body with lxml's default parser, which expands entities: a 400-byte
"billion laughs" document crashed the DSRSP inside lxml, and an XXE document or a body that is
not XML came back as HTTP 500. OpenADR 2.0b payloads never carry a document type declaration, so
the guard refuses any DTD outright, parses with entities, DTD loading and network access off and
a size cap, and reads the few fields the middleware needs (message type, venID, response code) by
namespace rather than by a prefix the sender chose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

#: Largest OpenADR body accepted (aiohttp's own default client_max_size is the same 1 MiB).
MAX_XML_BYTES = 1024 * 1024

EI = "{http://docs.oasis-open.org/ns/energyinterop/201110}"
OADR = "{http://openadr.org/oadr-2.0b/2012/07}"
PYLD = "{http://docs.oasis-open.org/ns/energyinterop/201110/payloads}"

# A DTD, an entity or a processing instruction other than the XML declaration: none belong in
# OpenADR 2.0b, and refusing them on the raw bytes means no parser ever expands one.
_FORBIDDEN = re.compile(rb"<!DOCTYPE|<!ENTITY|<\?(?!xml[\s?])", re.IGNORECASE)

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=False,
)


class UnsafeXmlError(ValueError):
    """The body is not an acceptable OpenADR XML document; ``reason`` says why in one line."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class Peeked:
    """What the guard reads from a parsed body."""

    tree: etree._Element
    message_type: str | None
    ven_id: str | None


def parse_untrusted(body: bytes) -> etree._Element:
    """Parse ``body`` from a peer, or raise :class:`UnsafeXmlError` naming the rule it broke."""
    if len(body) > MAX_XML_BYTES:
        raise UnsafeXmlError(f"body of {len(body)} bytes is larger than {MAX_XML_BYTES}")
    if _FORBIDDEN.search(body):
        raise UnsafeXmlError("document type declarations, entities and processing instructions are refused")
    try:
        tree = etree.fromstring(body, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UnsafeXmlError(f"body is not well-formed XML: {first[:120]}") from None
    if tree.getroottree().docinfo.internalDTD is not None:  # belt and braces after the byte check
        raise UnsafeXmlError("document type declarations are refused")
    return tree


def peek(body: bytes) -> Peeked:
    """Parse ``body`` and read its OpenADR message type and claimed venID."""
    tree = parse_untrusted(body)
    signed = tree.find(f"{OADR}oadrSignedObject")
    message = signed[0] if signed is not None and len(signed) else None
    message_type = etree.QName(message).localname if message is not None else None
    ven_id = tree.findtext(f".//{EI}venID")
    return Peeked(tree, message_type, ven_id.strip() if ven_id else None)


def response_code(body: bytes) -> tuple[int, str] | None:
    """The first eiResponse code and description of an answer we produced, or ``None``."""
    try:
        tree = etree.fromstring(body, _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None
    code = tree.findtext(f".//{EI}responseCode")
    if code is None or not code.strip().isdigit():
        return None
    return int(code), (tree.findtext(f".//{EI}responseDescription") or "").strip()


__all__ = ["MAX_XML_BYTES", "Peeked", "UnsafeXmlError", "parse_untrusted", "peek", "response_code"]
