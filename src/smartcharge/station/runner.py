"""Run an emulated charge point against a CSMS: tick every second, keep the link up, drain the queue.

Three supervised tasks per connection (``asyncio.TaskGroup``): the OCPP receive loop, the sender
that drains the outbox in order (a message leaves the queue only once the CSMS has answered it,
so a CSMS crash between receipt and answer makes the station send it again), and the heartbeat.
The tick loop runs for the life of the station, with or without a link (fail-safe, reg 7).

Reconnecting uses OCPP 2.0.1's randomised back-off (OCPPCommCtrlr RetryBackOffWaitMinimum,
RetryBackOffRandomRange, RetryBackOffRepeatTimes; SCP-FS-5): the n-th retry waits
``minimum * 2**min(n, repeat) + U(0, random_range)`` so a fleet does not reconnect in step.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from ocpp.exceptions import OCPPError
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from smartcharge.core.errors import ValidationError
from smartcharge.ocpp.domain import (
    ChargingLimitNotice,
    IdTokenInfo,
    OcppVersion,
    SecurityNotice,
    StationMessage,
    TransactionMessage,
)
from smartcharge.ocpp.security_ports import AlertEvent
from smartcharge.ocpp.server import open_station_connection
from smartcharge.ocpp.v16 import StationV16
from smartcharge.ocpp.v201 import StationV201
from smartcharge.station.clock import Clock
from smartcharge.station.device import EmulatedChargePoint, Uplink
from smartcharge.station.ev import EV

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LinkConfig:
    """Where and how the station connects (security profile follows from password / TLS / cert)."""

    url: str  # ws[s]://host:port/path/ ; the station id is appended
    version: OcppVersion = OcppVersion.V201
    password: str | None = None
    ssl_context: ssl.SSLContext | None = None
    retry_min_s: float = 3.0
    retry_random_range_s: float = 10.0
    retry_repeat: int = 5
    #: OCPP 2.0.1 OCPPCommCtrlr.MessageAttemptsTransactionEvent / 1.6 TransactionMessageAttempts:
    #: how often a transaction message the CSMS failed to process (CALLERROR InternalError, or no
    #: answer) is sent before it is given up.
    message_attempts: int = 5
    #: MessageAttemptIntervalTransactionEvent / TransactionMessageRetryInterval: the n-th retry
    #: waits n times this (E13, 1.6 section 4.10.1).
    message_attempt_interval_s: float = 10.0
    heartbeat_s: float = 300.0
    response_timeout_s: float = 15.0
    tick_s: float = 1.0
    vendor: str = "smartcharge"
    model: str = "GB-SCP-emulator"
    firmware: str = "0.1.0"


def backoff_s(attempt: int, config: LinkConfig, rng: np.random.Generator) -> float:
    """Wait before retry ``attempt`` (0-based), SCP-FS-5."""
    return float(
        config.retry_min_s * 2 ** min(attempt, config.retry_repeat)
        + rng.uniform(0, config.retry_random_range_s)
    )


async def _send(session: StationV201 | StationV16, item: Uplink) -> None:
    if isinstance(item, TransactionMessage):
        await session.transaction_event(item)
    elif isinstance(item, SecurityNotice):
        await session.security_event(item)
    elif isinstance(item, ChargingLimitNotice):
        if isinstance(session, StationV201):
            await session.notify_charging_limit(item)
    elif isinstance(item, StationMessage):
        await session.send_message(item)
    elif isinstance(item, AlertEvent):
        if isinstance(session, StationV201):
            await session.notify_event([item])
    elif isinstance(item, str):
        await session.status(item)
    else:
        await session.meter_values(item)


class StationRunner:
    """Owns one device and its link; ``run`` returns when ``stop`` is set."""

    def __init__(
        self, device: EmulatedChargePoint, link: LinkConfig, clock: Clock, rng: np.random.Generator
    ) -> None:
        self.device = device
        self.link = link
        self.clock = clock
        self._rng = rng
        self._remote_tx: dict[str, int] = {}
        self._wakeup = asyncio.Event()
        self.connected = asyncio.Event()
        self.boots = 0
        self.boot_status: str | None = None
        self.refused_messages = 0
        self.retried_messages = 0
        self.session: StationV201 | StationV16 | None = None
        self._reboot = asyncio.Event()
        device.on_reboot = self._reboot.set

    async def run(self, stop: asyncio.Event) -> None:
        async with asyncio.TaskGroup() as group:
            ticker = group.create_task(self._tick_loop(stop))
            await self._link_loop(stop)
            ticker.cancel()

    async def _tick_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.device.tick(self.clock.now_s())
            if self.device.security is not None:  # variable monitors (N07)
                self.device.security.tick(datetime.fromtimestamp(self.clock.now_s(), UTC))
            if self.device.outbox:
                self._wakeup.set()
            await self.clock.sleep(self.link.tick_s)

    async def _link_loop(self, stop: asyncio.Event) -> None:
        attempt = 0
        while not stop.is_set():
            try:
                await self._session(stop)
                attempt = 0
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError, OCPPError) as error:
                if isinstance(error, ssl.SSLCertVerificationError):  # SEC-S-6: the CSMS failed our check
                    self.device.record_security_event(
                        "InvalidCsmsCertificate", str(error.verify_message)[:255]
                    )
                if isinstance(error, InvalidStatus) and error.response.status_code == 401:
                    logger.error("%s: CSMS refused our credentials (HTTP 401)", self.device.station_id)
                    self.device.record_security_event("FailedToAuthenticateAtCsms", "HTTP 401 at handshake")
                logger.info("%s: link down (%s)", self.device.station_id, type(error).__name__)
            finally:
                self.connected.clear()
                self.device.link_down()
            if stop.is_set():
                break
            if self.device.reboot_requested:
                self.device.reboot_requested = False
                self._reboot.clear()
                continue
            wait_s = backoff_s(attempt, self.link, self._rng)
            attempt += 1
            try:
                await asyncio.wait_for(stop.wait(), timeout=wait_s)
            except TimeoutError:
                pass

    async def _session(self, stop: asyncio.Event) -> None:
        security = self.device.security  # station.security: its roots and certificate, if any
        base = self.link.url if security is None else security.csms_url(self.link.url)  # A05 slot
        url = base.rstrip("/") + "/" + self.device.station_id
        ssl_context = self.link.ssl_context
        if security is not None and url.startswith("wss:"):
            ssl_context = security.ssl_context()  # the CSMS root and client certificate installed now
        password = self.link.password if security is None else security.password(self.link.password)
        ws = await open_station_connection(
            url, self.device.station_id, self.link.version, password, ssl_context
        )
        session: StationV201 | StationV16

        async def on_fault(kind: str, detail: str) -> None:
            logger.warning("%s: CSMS sent a bad frame (%s): %s", self.device.station_id, kind, detail)

        if self.link.version is OcppVersion.V201:
            session = StationV201(self.device.station_id, ws, self.device, on_fault)
        else:
            session = StationV16(self.device.station_id, ws, self.device, on_fault, self._remote_tx)
        session._response_timeout = self.link.response_timeout_s
        self.session = session
        try:
            async with asyncio.TaskGroup() as group:
                receiver = group.create_task(session.start())
                await self._boot_until_accepted(session)
                self.boots += 1
                self.device.link_up()
                logger.info(
                    "%s: connected to the CSMS (boot accepted), %d message(s) queued",
                    self.device.station_id,
                    len(self.device.outbox),
                )
                await session.status("Occupied" if self.device.transaction_id else "Available")
                self.connected.set()
                helpers = [
                    group.create_task(self._drain(session)),
                    group.create_task(self._heartbeat(session)),
                ]
                if security is not None:  # e.g. FirmwareStatusNotification Installed after the reboot
                    helpers.append(group.create_task(security.on_link_up(session)))
                stopper = group.create_task(self._until(stop, ws))
                await receiver
                for task in [*helpers, stopper]:
                    task.cancel()
        except ExceptionGroup as group_error:
            # One link failure cancels its sibling tasks; report the first cause to the retry loop.
            first = group_error.exceptions[0]
            # A CALLERROR to our BootNotification (CSMS overloaded) is retried like a lost link.
            if isinstance(first, ConnectionClosed | TimeoutError | OSError | InvalidHandshake | OCPPError):
                raise first from None
            raise
        finally:
            await ws.close()

    async def _boot_until_accepted(self, session: StationV201 | StationV16) -> None:
        """B02/B03: while Pending or Rejected the station sends nothing but BootNotification, again
        after the interval the CSMS gave (or at once on TriggerMessage BootNotification); it still
        answers the CSMS's calls (the receive loop runs), so a Pending station can be configured."""
        security = self.device.security  # L01: the version installed by a signed update, if any
        firmware = self.link.firmware if security is None else security.firmware_version(self.link.firmware)
        status = await session.boot(self.link.vendor, self.link.model, firmware)
        while status != "Accepted":
            self.boot_status = status
            try:
                await asyncio.wait_for(session.boot_requested.wait(), timeout=max(session.boot_interval_s, 1))
            except TimeoutError:
                pass
            status = await session.boot(self.link.vendor, self.link.model, firmware)
        self.boot_status = status

    async def authorize(self, id_token: str) -> IdTokenInfo:
        """C01 online; offline from the local list, then the cache (C12, C13). Unknown to all:
        not accepted, so an unknown token never starts charging."""
        session = self.session
        if self.connected.is_set() and session is not None:
            try:
                return await session.authorize_info(id_token)
            except (OCPPError, TimeoutError, ConnectionClosed, OSError) as error:
                logger.info("%s: Authorize failed (%s): deciding locally", self.device.station_id, error)
        return self.device.offline_authorization(id_token) or IdTokenInfo("Unknown")

    async def present_token(self, id_token: str, ev: EV | None = None) -> IdTokenInfo:
        """A driver presents a token and plugs in: the session starts only if it is Accepted
        and no reservation holds the EVSE for another token (H01, H03; 1.6 section 5.13): the
        reserving token, or one of its group (the verdict's group id token / parentIdTag), is
        admitted and uses the reservation up; any other is refused before it is authorized."""
        reservations = self.device.reservations
        if not reservations.admits(id_token):
            if not any(r.group_id_token for r in reservations.values()):
                return IdTokenInfo("Invalid")  # only the reserving token could use it
        info = await self.authorize(id_token)
        if not reservations.admits(id_token, info.group_id_token):
            logger.info("%s: %s refused: the EVSE is reserved", self.device.station_id, id_token)
            return IdTokenInfo("Invalid", group_id_token=info.group_id_token)
        if info.accepted:
            reservations.use(id_token, info.group_id_token)
            self.device.plug_in(ev or EV(), id_token=id_token)
            self._wakeup.set()
        return info

    async def _until(self, stop: asyncio.Event, ws: object) -> None:
        # Wait on events, not a polling loop: ten thousand stations polling would eat a core.
        waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._reboot.wait())}
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()
        await ws.close()  # type: ignore[attr-defined]

    async def _drain(self, session: StationV201 | StationV16) -> None:
        outbox = self.device.outbox
        while True:
            while outbox:
                await self._deliver(session, outbox[0])
                outbox.popleft()  # only once the CSMS has answered: nothing lost on its crash
            self._wakeup.clear()
            await self._wakeup.wait()

    async def _deliver(self, session: StationV201 | StationV16, item: Uplink) -> None:
        """Send one message. A transaction message the CSMS could not process (InternalError, or
        no answer in time) is sent again, up to ``message_attempts`` times, the n-th retry after
        n x ``message_attempt_interval_s`` (OCPP 2.0.1 E13, 1.6 4.10.1); any other CALLERROR
        means the CSMS refused the message itself, and resending cannot help."""
        transactional = isinstance(item, TransactionMessage | tuple)
        for attempt in range(1, self.link.message_attempts + 1):
            try:
                await _send(session, item)
                return
            except TimeoutError:
                if not transactional or attempt == self.link.message_attempts:
                    raise  # the link is presumed dead: reconnect and replay
                reason = "no answer"
            except (OCPPError, ValidationError) as error:
                retriable = transactional and getattr(error, "code", None) == "InternalError"
                if not retriable or attempt == self.link.message_attempts:
                    logger.error(
                        "%s: message refused after %d attempt(s), dropped: %s",
                        self.device.station_id,
                        attempt,
                        error,
                    )
                    self.refused_messages += 1
                    return
                reason = "InternalError"
            self.retried_messages += 1
            logger.info(
                "%s: CSMS could not process a transaction message (%s); attempt %d of %d in %.0f s",
                self.device.station_id,
                reason,
                attempt + 1,
                self.link.message_attempts,
                attempt * self.link.message_attempt_interval_s,
            )
            await asyncio.sleep(attempt * self.link.message_attempt_interval_s)

    async def _heartbeat(self, session: StationV201 | StationV16) -> None:
        while True:
            await asyncio.sleep(self.link.heartbeat_s)
            await session.heartbeat()


__all__ = ["LinkConfig", "StationRunner", "backoff_s"]
