"""Settings: the layers, the one-line errors, secrets, the docs table and `config`."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ostogether.core.errors import ConfigError
from ostogether.core.settings import load_settings, table
from ostogether.edges.runtime import secret_key
from tests.conftest import run, run_process

REPO = Path(__file__).resolve().parents[2]


def test_defaults_are_the_embedded_setup() -> None:
    s = load_settings(environ={})
    assert s.database_url == f"sqlite:///{Path.cwd().resolve() / 'var/ostogether.db'}"
    assert s.mail_transport == "outbox"
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    assert s.public_url == "http://127.0.0.1:8000"


def test_every_path_setting_is_absolute_once_loaded(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative paths are read against ``home`` when the settings load, never later
    against whatever folder a later step runs in (send_file once read var/media from
    ostogether/web/)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "community").mkdir()
    s = load_settings(environ={"OSTOGETHER_HOME": "community",
                               "OSTOGETHER_DKIM_KEY_FILE": "keys/dkim.pem",
                               "OSTOGETHER_BOUNCE_MAILDIR": "~/bounces"})
    home = tmp_path.resolve() / "community"
    assert s.home == home
    assert s.media_dir == s.media_path == home / "var/media"
    assert s.outbox_dir == home / "var/outbox"
    assert s.var_dir == home / "var"
    assert s.dkim_key_file == str(home / "keys/dkim.pem")
    assert s.bounce_maildir == str(Path("~/bounces").expanduser())
    assert s.smtp_ca_file == ""  # unset stays unset
    assert s.database_url == f"sqlite:///{home / 'var/ostogether.db'}"
    for info in table():
        if info.type is Path:
            assert getattr(s, info.name).is_absolute(), info.name


def test_file_then_environment_override(tmp_path: Path) -> None:
    cfg = tmp_path / "site.toml"
    cfg.write_text('port = 9000\nsmtp_host = "mail.example.org"\nsmtp_timeout = 5\n')
    s = load_settings(cfg, environ={"OSTOGETHER_PORT": "9100"})
    assert s.port == 9100  # environment wins over the file
    assert s.smtp_host == "mail.example.org"
    assert s.smtp_timeout == 5.0


def test_config_file_from_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('mail_transport = "smtp"\n')
    assert load_settings(environ={"OSTOGETHER_CONFIG": str(cfg)}).mail_transport == "smtp"


@pytest.mark.parametrize("env, needle", [
    ({"OSTOGETHER_PORT": "eighty"}, "OSTOGETHER_PORT: expected a whole number from 1 to 65535, "
                                    "got 'eighty'"),
    ({"OSTOGETHER_PORT": "70000"}, "OSTOGETHER_PORT: expected a whole number from 1 to 65535"),
    ({"OSTOGETHER_MAIL_TRANSPORT": "pigeon"}, "OSTOGETHER_MAIL_TRANSPORT: expected one of "
                                              "outbox, smtp, got 'pigeon'"),
    ({"OSTOGETHER_SMTP_SECURITY": "ssl"}, "expected one of none, starttls, tls"),
    ({"OSTOGETHER_DATABASE_URL": "not a url"}, "OSTOGETHER_DATABASE_URL: expected a database URL"),
    ({"OSTOGETHER_DATABASE_URL": "mysql://u@h/db"}, "must be sqlite or postgresql"),
    ({"OSTOGETHER_SMTP_TIMEOUT": "-1"}, "OSTOGETHER_SMTP_TIMEOUT: expected a number from 0.1"),
    ({"OSTOGETHER_MAIL_FROM": "not an address"}, "OSTOGETHER_MAIL_FROM: expected an address"),
    ({"OSTOGETHER_BASE_URL": "ostogether.eu"}, "OSTOGETHER_BASE_URL: expected an absolute"),
    ({"OSTOGETHER_SMTP_PASWORD": "x"}, "OSTOGETHER_SMTP_PASWORD: unknown setting"),
    ({"OSTOGETHER_ENV": "production"}, "OSTOGETHER_SECRET_KEY: production needs a secret key"),
    ({"OSTOGETHER_SECRET_KEY": "short"}, "at least 32 characters"),
])
def test_bad_values_fail_with_one_clear_line(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(environ=env)
    message = str(exc.value)
    assert needle in message
    assert "\n" not in message


def test_file_errors_name_the_file_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('port = "abc"\n')
    with pytest.raises(ConfigError, match=r"c.toml: port: expected a whole number"):
        load_settings(cfg, environ={})
    cfg.write_text('colour = "blue"\n')
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings(cfg, environ={})
    cfg.write_text('port = \n')
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(cfg, environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml", environ={})


def test_secrets_only_from_the_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('smtp_password = "hunter2"\n')
    with pytest.raises(ConfigError, match="only be set in the environment as "
                                          "OSTOGETHER_SMTP_PASSWORD"):
        load_settings(cfg, environ={})
    assert load_settings(environ={"OSTOGETHER_SMTP_PASSWORD": "hunter2"}).smtp_password == "hunter2"


def test_development_secret_key_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    s = load_settings(environ={"OSTOGETHER_HOME": str(tmp_path)})
    key = secret_key(s)
    path = tmp_path / "var" / "secret_key"
    assert len(key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key(s) == key  # kept, not regenerated


def test_every_setting_is_documented() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text()
    missing = [i.env_name for i in table() if f"`{i.env_name}`" not in doc]
    assert not missing, f"add these to docs/configuration.md: {missing}"


def test_config_command_masks_secrets(tmp_path: Path) -> None:
    r = run({"OSTOGETHER_HOME": str(tmp_path),
             "OSTOGETHER_SMTP_PASSWORD": "hunter2-very-secret"}, "config")
    assert r.returncode == 0
    assert "hunter2" not in r.stdout
    assert "OSTOGETHER_SMTP_PASSWORD" in r.stdout and "********" in r.stdout


def test_bad_setting_at_start_is_one_line_without_traceback(tmp_path: Path) -> None:
    r = run_process({"OSTOGETHER_HOME": str(tmp_path), "OSTOGETHER_PORT": "abc"}, "init")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert lines == ["Error: OSTOGETHER_PORT: expected a whole number from 1 to 65535, got 'abc'."]
