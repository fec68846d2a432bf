"""Production mode is secure by default, and refuses to start without real secrets."""

import os
import secrets
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from tests.processes import REPO


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("ALLIED_", "DJANGO_", "DATABASE_URL"))}
    environment.update({"PYTHONPATH": str(REPO / "src"), "DJANGO_SETTINGS_MODULE": "allied.settings", **env})
    return subprocess.run(
        [sys.executable, "-m", "django", *args], cwd=REPO, env=environment, capture_output=True, text=True, timeout=120
    )


def production_env(tmp_path: object) -> dict[str, str]:
    return {
        "ALLIED_SECRET_KEY": secrets.token_urlsafe(64),
        "ALLIED_VAULT_KEYS": Fernet.generate_key().decode(),
        "ALLIED_ALLOWED_HOSTS": "ops.allied.example",
        "ALLIED_VAR_DIR": str(tmp_path),
    }


def test_check_deploy_passes_in_production_mode(tmp_path: object) -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_env(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "secret",
    ["", "short", "django-insecure-" + "x" * 60, "allied-development-secret-key-never-use-in-production", "a" * 64],
)
def test_production_mode_refuses_insecure_secret(tmp_path: object, secret: str) -> None:
    env = production_env(tmp_path) | {"ALLIED_SECRET_KEY": secret}

    result = manage("check", **env)

    assert result.returncode != 0
    assert "ALLIED_SECRET_KEY is missing or insecure" in result.stderr


def test_production_mode_refuses_missing_vault_keys(tmp_path: object) -> None:
    env = production_env(tmp_path) | {"ALLIED_VAULT_KEYS": ""}

    result = manage("check", **env)

    assert result.returncode != 0
    assert "ALLIED_VAULT_KEYS is missing" in result.stderr


def test_production_sends_security_headers(tmp_path: object) -> None:
    env = production_env(tmp_path) | {"ALLIED_SSL_REDIRECT": "0"}
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client(HTTP_HOST='ops.allied.example').get('/api/v1/me', secure=True);"
        "print(r.status_code); print(r['Strict-Transport-Security']); print(r['Content-Security-Policy']);"
        "print(r['X-Content-Type-Options']); print(r['X-Frame-Options']); print(r['Referrer-Policy'])"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("ALLIED_", "DJANGO_", "DATABASE_URL"))}
    environment.update({"PYTHONPATH": str(REPO / "src"), "DJANGO_SETTINGS_MODULE": "allied.settings", **env})
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=environment, capture_output=True, text=True)

    status, hsts, csp, nosniff, frames, referrer = result.stdout.splitlines()
    assert status == "401", result.stderr
    assert "max-age=31536000" in hsts
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert (nosniff, frames, referrer) == ("nosniff", "DENY", "same-origin")


def test_pages_carry_a_csp_nonce_on_every_script(client: object, db: None) -> None:
    response = client.get("/accounts/login/")  # type: ignore[attr-defined]
    csp = response["Content-Security-Policy"]
    nonce = csp.split("'nonce-")[1].split("'")[0]
    html = response.content.decode()

    assert html.count("<script") == html.count(f'nonce="{nonce}"') > 0


@pytest.mark.django_db
def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite pragmas apply to the embedded database only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal = cursor.fetchone()[0]
        cursor.execute("PRAGMA foreign_keys")
        foreign_keys = cursor.fetchone()[0]
        cursor.execute("PRAGMA busy_timeout")
        busy_timeout = cursor.fetchone()[0]

    assert journal == "wal"
    assert foreign_keys == 1
    assert busy_timeout >= 5000
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_passwords_are_hashed_with_argon2() -> None:
    from allied import settings as production_settings

    assert production_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
