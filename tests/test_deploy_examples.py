"""The deployment examples in deploy/ (README, "Deploying for a team") cannot drift from the
code: every NKMAP_* variable they name is one the settings read, the systemd unit runs the
Makefile's `streamlit run` command, and nginx sends the websocket, the upload limit and every
request of one browser to one of the unit's instances."""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from geo.settings import Settings

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
NGINX, UNIT, ENV = DEPLOY / "nginx.conf", DEPLOY / "nkmap@.service", DEPLOY / "nkmap.env.example"
README = REPO / "README.md"
VARIABLE = re.compile(r"\bNKMAP_[A-Z0-9_]+\b")


class _Recorder(dict):
    """os.environ as the settings see it, remembering every name they look up."""

    def __init__(self, environ) -> None:
        super().__init__(environ)
        self.read: set[str] = set()

    def get(self, key, default=None):
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key) -> bool:
        self.read.add(key)
        return super().__contains__(key)


def _settings_variables(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    recorder = _Recorder({k: v for k, v in os.environ.items() if not k.startswith("NKMAP_")})
    monkeypatch.setattr(os, "environ", recorder)
    Settings.from_env()
    return {name for name in recorder.read if name.startswith("NKMAP_")}


def _deploy_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Deploying for a team\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_every_nkmap_variable_named_is_one_the_settings_read(monkeypatch: pytest.MonkeyPatch):
    read = _settings_variables(monkeypatch)
    # The recorder sees what the code reads; the literal names in geo/settings.py agree.
    literal = set(VARIABLE.findall((REPO / "geo" / "settings.py").read_text(encoding="utf-8")))
    assert read == literal
    for path in (NGINX, UNIT, ENV):
        named = set(VARIABLE.findall(path.read_text(encoding="utf-8")))
        assert named <= read, f"{path.name} names {sorted(named - read)}: no setting reads them"
    section = set(VARIABLE.findall(_deploy_section()))
    assert section <= read, f"README names {sorted(section - read)}: no setting reads them"
    # The settings a team deployment must decide are in the example environment.
    example = set(re.findall(r"^(NKMAP_[A-Z0-9_]+)=", ENV.read_text(encoding="utf-8"), re.M))
    assert {"NKMAP_DB", "NKMAP_REQUIRE_LOGIN", "NKMAP_PUBLIC_URL"} <= example


def test_env_example_selects_postgresql_and_login():
    values = dict(
        line.split("=", 1)
        for line in ENV.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    assert values["NKMAP_DB"].startswith("postgresql://")
    assert ":" not in values["NKMAP_DB"].split("://", 1)[1].split("@", 1)[0]  # no password
    assert values["NKMAP_REQUIRE_LOGIN"] == "1"
    assert values["NKMAP_PUBLIC_URL"].startswith("https://")


def _makefile_run() -> list[str]:
    recipe = re.search(
        r"^run:.*\n((?:\t.*\n)+)", (REPO / "Makefile").read_text(encoding="utf-8"), re.M
    )
    assert recipe, "the Makefile has no run target"
    (line,) = [x for x in recipe.group(1).splitlines() if "streamlit run" in x]
    return shlex.split(line.strip())


def _unit() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def _flags(argv: list[str]) -> list[str]:
    return [a for a in argv if a.startswith("--")]


def test_unit_runs_the_makefiles_streamlit_command():
    make, unit = _makefile_run(), _unit()
    (exec_start,) = unit["ExecStart"]
    argv = shlex.split(exec_start)
    # The same program, script and flags, in the same order, as `make run`.
    assert argv[0].endswith("/" + make[0]) and make[0] == ".venv/bin/streamlit"
    assert argv[1:3] == make[1:3] == ["run", "app.py"]
    assert _flags(argv) == _flags(make) == ["--server.address", "--server.port"]
    options = dict(zip(argv[3::2], argv[4::2], strict=True))
    assert options == {"--server.address": "127.0.0.1", "--server.port": "%i"}  # loopback only
    # app.py is found from the working directory, the checkout the program lives in.
    (workdir,) = unit["WorkingDirectory"]
    assert argv[0] == f"{workdir}/.venv/bin/streamlit"
    assert unit["EnvironmentFile"] == ["/etc/nkmap/nkmap.env"]
    # The folders the app writes at run time stay writable under ProtectSystem.
    writable = " ".join(unit["ReadWritePaths"]).split()
    assert {f"{workdir}/static/data", f"{workdir}/var"} <= set(writable)


def _nginx() -> str:
    # Without comments: a commented-out line proves nothing.
    return "\n".join(
        line.split("#", 1)[0] for line in NGINX.read_text(encoding="utf-8").splitlines()
    )


def test_nginx_is_sticky_passes_the_websocket_and_reaches_every_instance():
    conf = _nginx()
    upstream = re.search(r"upstream nkmap \{(.*?)\}", conf, re.S).group(1)
    # Sticky: every request of one browser goes to one server (a hash of the route cookie).
    assert re.search(r"^\s*hash \$nkmap_route consistent;", upstream, re.M)
    assert "map $cookie_nkmap_route $nkmap_route" in conf
    assert re.search(r'add_header Set-Cookie "nkmap_route=\$nkmap_route;[^"]*Secure', conf)
    # The instances the README starts (nkmap@PORT), on loopback, as the unit listens.
    ports = re.findall(r"^\s*server 127\.0\.0\.1:(\d+);", upstream, re.M)
    started = re.findall(r"nkmap@(\d+)", _deploy_section())
    assert len(ports) >= 2 and set(ports) == set(started)
    # Streamlit's websocket, kept open.
    for directive in (
        "proxy_pass http://nkmap;",
        "proxy_http_version 1.1;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_set_header Host $host;",
        "proxy_read_timeout 1d;",
    ):
        assert directive in conf, directive
    # TLS, and plain HTTP only as a redirect to it.
    assert re.search(r"listen 443 ssl;", conf) and "ssl_certificate_key" in conf
    assert "return 301 https://$host$request_uri;" in conf
    # Uploads up to Streamlit's limit pass the proxy.
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    body = int(re.search(r"client_max_body_size (\d+)m;", conf).group(1))
    assert body > config["server"]["maxUploadSize"]
    assert config["server"]["enableXsrfProtection"] is True
