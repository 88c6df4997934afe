"""The settings as people read them: `ostogether config` and docs/configuration.md's table."""

from __future__ import annotations

from pathlib import Path

from ostogether.core.settings import SettingInfo, Settings, table


def effective(settings: Settings) -> list[tuple[SettingInfo, str]]:
    """Each setting with its value as text, secrets masked, for `ostogether config`."""
    out = []
    for info in table():
        value = getattr(settings, info.name)
        if info.secret:
            shown = "********" if value else "(not set)"
        else:
            shown = str(value)
        out.append((info, shown))
    return out


def markdown_table() -> str:
    """The reference table for docs/configuration.md."""
    lines = ["| Environment variable | Type | Default | Meaning |", "|---|---|---|---|"]
    for info in table():
        kind = ("secret" if info.secret else
                " \\| ".join(info.choices) if info.choices else
                {int: "integer", float: "number", bool: "boolean", Path: "path"}.get(
                    info.type, "text"))
        default = "(generated)" if info.name == "secret_key" else (
            f"`{info.default}`" if str(info.default) else "(empty)")
        lines.append(f"| `{info.env_name}` | {kind} | {default} | {info.help} |")
    return "\n".join(lines)
