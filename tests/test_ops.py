"""The running and deployment files agree with the code they run.

No database: these read files. The full `make run` smoke test lives in .ci/run.
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _settings_env_vars() -> set[str]:
    source = (ROOT / "config" / "settings.py").read_text()
    pattern = r'(?:os\.environ\.get|env_bool|env_list|os\.getenv)\(\s*"([A-Z0-9_]+)"'
    return set(re.findall(pattern, source))


def test_every_setting_variable_is_documented_in_readme():
    names = _settings_env_vars()
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= names
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert not missing, f"README.md, Configuration, does not describe: {missing}"


def test_procfile_runs_web_worker_and_beat():
    entries = dict(
        line.split(":", 1)
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert set(entries) == {"web", "worker", "beat"}
    assert "gunicorn config.wsgi:application" in entries["web"]
    assert "--config config/gunicorn.py" in entries["web"]
    assert re.search(r"celery --app config worker\b", entries["worker"])
    assert re.search(r"celery --app config beat\b", entries["beat"])


def test_gunicorn_config_reads_bind_and_workers(monkeypatch):
    monkeypatch.setenv("GUNICORN_BIND", "127.0.0.1:8765")
    monkeypatch.delenv("GUNICORN_WORKERS", raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 3)
    conf = runpy.run_path(str(ROOT / "config" / "gunicorn.py"))
    assert conf["bind"] == "127.0.0.1:8765"
    assert conf["workers"] == 6  # two per CPU by default
    assert conf["reload"] is False
    monkeypatch.setenv("GUNICORN_WORKERS", "5")
    assert runpy.run_path(str(ROOT / "config" / "gunicorn.py"))["workers"] == 5


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_production_services_with_health_checks(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    for name in ("postgres", "redis", "web", "worker", "beat"):
        assert services[name].get("healthcheck", {}).get("test"), name
    assert "/healthz" in "".join(services["web"]["healthcheck"]["test"])


def test_compose_app_services_wait_for_migrations_and_run_in_production_mode(compose):
    services = compose["services"]
    for name in ("web", "worker", "beat"):
        svc = services[name]
        assert svc["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        ), name
        env = svc["environment"]
        assert env["DJANGO_DEBUG"] == "0", name
        assert env["DATABASE_URL"].startswith("postgres://"), name
        assert env["REDIS_URL"].startswith("redis://"), name
        assert "DJANGO_SECRET_KEY" in env, name
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]


def test_compose_health_check_snippets_are_valid_python(compose):
    for name in ("web", "beat"):
        test = compose["services"][name]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"], name
        compile(test[3], f"<{name} healthcheck>", "exec")


def test_ci_script_is_strict_and_executable():
    script = ROOT / ".ci" / "run"
    assert script.stat().st_mode & 0o111, ".ci/run must be executable"
    text = script.read_text()
    assert "set -euo pipefail" in text
    assert "make test" in text
    assert "check --deploy --fail-level WARNING" in text
