"""docs/configuration.md, generated from the Settings fields (`python -m channelpulse.config_docs`)."""

from __future__ import annotations

import sys

from channelpulse.config import REPO_ROOT, Settings

DOC = REPO_ROOT / "docs" / "configuration.md"


def render() -> str:
    lines = [
        "# Configuration",
        "",
        "Every setting is an environment variable `CHANNELPULSE_<NAME>`. This page is generated from",
        "`channelpulse/config.py` by `python -m channelpulse.config_docs`; a unit test keeps it current.",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = field.default
        if name in ("cache_dir", "model_repository_source", "data_dir"):
            default = {"cache_dir": "~/.cache/channelpulse", "model_repository_source": "<repo>/models/repository",
                       "data_dir": "<repo>/../shared/data"}[name]
        shown = "(unset)" if default is None else f"`{default}`"
        lines.append(f"| `CHANNELPULSE_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    DOC.write_text(render())
    print(f"wrote {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


