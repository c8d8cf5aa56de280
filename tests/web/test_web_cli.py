"""``smartcharge cem add-token`` and ``add-user``: printed once, hashed, refused with one line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from smartcharge.cem.service import open_store
from smartcharge.cli.main import app
from smartcharge.store.web_access import WebAccessRepository
from smartcharge.web.auth import AuthService

runner = CliRunner()


def test_add_token_prints_a_working_token_once(sqlite_url: str) -> None:
    result = runner.invoke(
        app, ["cem", "add-token", "--role", "operator", "--label", "ci", "--db", sqlite_url]
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    auth = AuthService(WebAccessRepository(open_store(sqlite_url).engine))
    principal = auth.bearer_principal(token)
    assert principal is not None and principal.role.value == "operator"
    [record] = auth.repo.tokens()
    secret = token.removeprefix("sct_").partition("_")[2]  # the secret may itself contain "_"
    assert record.label == "ci" and len(secret) >= 20 and secret not in record.secret_hash
    revoked = runner.invoke(app, ["cem", "revoke-token", "--id", record.token_id, "--db", sqlite_url])
    assert revoked.exit_code == 0, revoked.output
    fresh = AuthService(WebAccessRepository(open_store(sqlite_url).engine))
    assert fresh.bearer_principal(token) is None
    again = runner.invoke(app, ["cem", "revoke-token", "--id", record.token_id, "--db", sqlite_url])
    assert again.exit_code == 2 and "already revoked" in again.output


def test_add_user_prints_a_random_password_that_logs_in(sqlite_url: str) -> None:
    result = runner.invoke(
        app, ["cem", "add-user", "--username", "site1", "--role", "site-manager", "--db", sqlite_url]
    )
    assert result.exit_code == 0, result.output
    password = result.output.strip().splitlines()[-1]
    auth = AuthService(WebAccessRepository(open_store(sqlite_url).engine))
    assert auth.login("site1", password, "127.0.0.1").principal.role.value == "site-manager"
    again = runner.invoke(
        app, ["cem", "add-user", "--username", "site1", "--role", "viewer", "--db", sqlite_url]
    )
    assert again.exit_code == 2 and "already exists" in again.output


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["add-token", "--role", "admin"], "role"),
        (["add-user", "--username", "bad name", "--role", "owner"], "username"),
        (["add-user", "--username", "x", "--role", "root"], "role"),
    ],
)
def test_bad_values_are_refused_in_one_line(sqlite_url: str, args: list[str], field: str) -> None:
    result = runner.invoke(app, ["cem", *args, "--db", sqlite_url])
    assert result.exit_code == 2
    assert f"{field}=" in result.output and "Traceback" not in result.output


def test_cem_serve_with_api_prints_the_first_owner_once_and_serves(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The real command: ``smartcharge cem serve --api-port 0`` on an empty database prints the
    owner's password once; it logs in over HTTP; SIGTERM stops the process cleanly."""
    import os
    import re
    import signal
    import subprocess
    import sys

    import httpx

    from interface_b_harness import free_port

    db = f"sqlite:///{tmp_path / 'cem.db'}"
    command = [sys.executable, "-m", "smartcharge", "cem", "serve", "--db", db, "--port", str(free_port())]
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.Popen(
        [*command, "--api-port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        lines = []
        while not any("web API on" in line for line in lines):
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        password = lines[lines.index(next(x for x in lines if "shown once" in x)) + 1].strip()
        base = re.search(r"web API on (\S+)/api/v1", "".join(lines)).group(1)  # type: ignore[union-attr]
        answer = httpx.post(f"{base}/api/v1/auth/login", json={"username": "owner", "password": password})
        assert answer.status_code == 200 and answer.json()["role"] == "owner"
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
        if proc.stdout is not None:
            proc.stdout.close()
    assert code == 0


def test_cem_serve_on_a_taken_api_port_says_so_in_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import socket
    import subprocess
    import sys

    from interface_b_harness import free_port

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        db = f"sqlite:///{tmp_path / 'cem.db'}"
        command = [
            sys.executable,
            "-m",
            "smartcharge",
            "cem",
            "serve",
            "--db",
            db,
            "--port",
            str(free_port()),
        ]
        done = subprocess.run(
            [*command, "--api-port", str(port)], capture_output=True, text=True, timeout=60, check=False
        )
    assert done.returncode == 2, done.stdout + done.stderr
    # The one-line error goes to stderr (cli.common.fail); no traceback anywhere.
    assert f"api_port={port}" in done.stderr and "Traceback" not in done.stdout + done.stderr
