"""Compose and run the CEM: store (migrated on start), OCPP listener(s), and optionally the VEN.

One plain listener (security profile 1, trusted networks only) and/or one TLS listener (profiles
2 and 3 on the same port: a client certificate is optional at the TLS layer and required by the
authenticator for stations registered at profile 3).
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine, make_url

from smartcharge.cem.auth import StationAuthenticator
from smartcharge.cem.ca import CertificateAuthority, CommandSigner, CsrSigner
from smartcharge.cem.file_server import FileServer
from smartcharge.cem.gateway import CemGateway
from smartcharge.cem.id_tokens import IdTokenService
from smartcharge.cem.recorder import Recorder
from smartcharge.cem.security import CemSecurity
from smartcharge.cem.station_reports import StationReports
from smartcharge.core.config_file import require_file
from smartcharge.core.errors import ValidationError
from smartcharge.ocpp.server import DEFAULT_MAX_FRAME_BYTES, OcppServer
from smartcharge.ocpp.tls import server_context
from smartcharge.store.base import make_engine
from smartcharge.store.id_token_repo import IdTokenRepository
from smartcharge.store.limit_book_repo import LimitBookRepository
from smartcharge.store.migrate import upgrade
from smartcharge.store.private_files import key_directory, load_or_create_key, secure_database_file
from smartcharge.store.security_log import SecurityLog
from smartcharge.store.session_repo import SessionRepository
from smartcharge.store.spool import Spool
from smartcharge.store.station_detail_repo import StationDetailRepository
from smartcharge.store.station_repo import StationRepository

logger = logging.getLogger(__name__)

#: The security log's HMAC key in the data directory (store/security_log.py).
SECURITY_LOG_KEY_FILE = "security-log.key"


@dataclass(frozen=True, slots=True)
class CemConfig:
    database_url: str
    host: str = "127.0.0.1"
    port: int | None = 9000
    tls_port: int | None = None
    cert: Path | None = None
    key: Path | None = None
    client_ca: Path | None = None
    #: More (certificate, key) chains for the TLS port: an RSA one next to an EC one (OCPP 2.0.1
    #: part 2 asks a CSMS for both the ECDHE-ECDSA and the RSA cipher suites).
    extra_chains: tuple[tuple[Path, Path], ...] = ()
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    ping_interval_s: float | None = 60.0
    ven_config: Path | None = None
    #: Where the CEM's keys live (security-log HMAC key, CA); see ``open_store``.
    data_dir: Path | None = None
    #: The CA that signs station CSRs (default: ``ca`` in the key directory, created 0700/0600).
    ca_dir: Path | None = None
    #: An external CA instead (``cem/ca.py::CommandSigner``): the command gets the CSR on stdin
    #: and the station id as its last argument, and prints the PEM chain.
    ca_command: tuple[str, ...] | None = None
    #: HTTPS port of the file endpoint (firmware downloads, GetLog uploads); None: not served.
    files_port: int | None = None
    #: Published firmware images (default: ``firmware`` in the key directory).
    firmware_dir: Path | None = None
    #: Local spool for station messages while the database is down (issue 15); default: beside a
    #: SQLite file, none for a server database unless given (``cem serve`` gives one in --data-dir).
    spool_path: Path | None = None

    def __post_init__(self) -> None:
        if self.port is None and self.tls_port is None:
            raise ValidationError("port", None, "give --port, --tls-port or both")
        if self.files_port is not None and (self.cert is None or self.key is None):
            raise ValidationError(
                "files_port", self.files_port, "the HTTPS file endpoint needs --cert and --key"
            )
        if self.tls_port is not None and (self.cert is None or self.key is None):
            raise ValidationError("cert", self.cert, "a TLS listener needs --cert and --key")
        for field in ("cert", "key", "client_ca", "ven_config"):
            path = getattr(self, field)
            if path is not None:
                require_file(Path(path), field)
        if not 1024 <= self.max_frame_bytes <= 16 * 1024 * 1024:
            raise ValidationError("max_frame_bytes", self.max_frame_bytes, "must be 1 KiB..16 MiB")


@dataclass
class Store:
    engine: Engine
    stations: StationRepository
    sessions: SessionRepository
    security: SecurityLog
    limits: LimitBookRepository
    id_tokens: IdTokenRepository
    details: StationDetailRepository


def open_store(database_url: str, migrate: bool = True, data_dir: Path | None = None) -> Store:
    """Engine and repositories for ``database_url``, migrated to the newest revision.

    A SQLite file is made 0600 before it is opened; the security log's HMAC key is kept 0600 in
    ``data_dir`` (default: next to a SQLite file, else the default data directory)."""
    secure_database_file(database_url)
    key = load_or_create_key(key_directory(database_url, data_dir) / SECURITY_LOG_KEY_FILE)
    engine = make_engine(database_url)
    if migrate:
        upgrade(engine)
    return Store(
        engine,
        StationRepository(engine),
        SessionRepository(engine),
        SecurityLog(engine, key),
        LimitBookRepository(engine),
        IdTokenRepository(engine),
        StationDetailRepository(engine),
    )


def default_spool_path(database_url: str) -> Path | None:
    """Beside the SQLite file (``cem.db`` -> ``cem.db.spool``); None for a server database."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database + ".spool")
    return None


def build_gateway(store: Store, spool_path: Path | None = None) -> CemGateway:
    spool = None if spool_path is None else Spool(spool_path)
    recorder = Recorder(store.stations, store.sessions, store.security, store.limits, spool)
    return CemGateway(
        recorder,
        IdTokenService(store.id_tokens),
        StationReports(store.details, recorder.write, recorder.writer),
    )


async def _start_security(config: CemConfig, gateway: CemGateway) -> CemSecurity:
    """The CA, the HTTPS file endpoint if asked for, and the security side of the gateway."""
    key_dir = key_directory(config.database_url, config.data_dir)
    ca = await asyncio.to_thread(CertificateAuthority.load_or_create, config.ca_dir or key_dir / "ca")
    files = None
    if config.files_port is not None:
        assert config.cert is not None and config.key is not None

        async def refused(station_id: str | None, reason: str, remote: str) -> None:
            await gateway.recorder.security_event(
                station_id, "LogUploadRefused", reason, remote_address=remote
            )

        files = FileServer(config.firmware_dir or key_dir / "firmware", key_dir / "uploads", refused)
        await files.start(config.host, config.files_port, config.cert, config.key)
    signer: CsrSigner = ca if config.ca_command is None else CommandSigner(list(config.ca_command))
    return CemSecurity(gateway.stations, gateway.recorder, signer, files)


#: The interpreter's default cyclic-GC thresholds, and the CEM's. With 1,000 stations connected the
#: collector's passes over their long-lived objects took 10 of the 16.5 CPU seconds the CEM spent
#: in the operator-API benchmark (benchmarks/README.md); allocation-heavy message handling ran a
#: generation-0 pass every 700 allocations. Cyclic garbage is rare here (reference counting frees
#: the rest), so collecting less often costs little memory.
DEFAULT_GC_THRESHOLDS = (700, 10, 10)
CEM_GC_THRESHOLDS = (50_000, 20, 20)


def tune_gc() -> None:
    """Collect less often, and leave what start-up built (modules, schemas, the store) out of
    every later pass (``gc.freeze``). Thresholds someone else already changed are kept."""
    if gc.get_threshold() == DEFAULT_GC_THRESHOLDS:
        gc.set_threshold(*CEM_GC_THRESHOLDS)
    gc.freeze()


async def serve_cem(
    config: CemConfig,
    stop: asyncio.Event,
    on_ready: Callable[[CemGateway, OcppServer], None] | None = None,
) -> None:
    """Run the CEM until ``stop`` is set."""
    store = await asyncio.to_thread(open_store, config.database_url, True, config.data_dir)
    gateway = build_gateway(store, config.spool_path or default_spool_path(config.database_url))
    # Before any station can connect: each gets what still holds after its BootNotification.
    restored = await gateway.restore_limits()
    if restored:
        logger.info("limit book: %d limit(s) restored from the store", restored)
    server = OcppServer(
        gateway,
        StationAuthenticator(store.stations, gateway.recorder),
        max_frame_bytes=config.max_frame_bytes,
        ping_interval_s=config.ping_interval_s,
        on_tls_refused=lambda kind, reason, remote: gateway.recorder.security_event(
            None, kind, reason, remote_address=remote
        ),
    )
    listeners = []
    if config.port is not None:
        listeners.append(await server.start(config.host, config.port))
    if config.tls_port is not None:
        assert config.cert is not None and config.key is not None
        context = server_context(config.cert, config.key, config.client_ca, config.extra_chains)
        listeners.append(await server.start(config.host, config.tls_port, context))
    gateway.security = await _start_security(config, gateway)
    tune_gc()
    if on_ready is not None:
        on_ready(gateway, server)
    logger.info("CEM ready")
    try:
        async with asyncio.TaskGroup() as group:
            if config.ven_config is not None:
                from smartcharge.cem.ven import run_ven  # the VEN is optional; import only when asked

                group.create_task(run_ven(gateway, config.ven_config, stop))
            await stop.wait()
    finally:
        for listener in listeners:
            listener.close()
            await listener.wait_closed()
        await gateway.close()
        await gateway.security.close()
        gateway.recorder.close()
        store.engine.dispose()


__all__ = ["CemConfig", "Store", "build_gateway", "default_spool_path", "open_store", "serve_cem"]
