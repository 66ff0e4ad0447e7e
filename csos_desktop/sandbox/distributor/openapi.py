"""Render the distributor API's OpenAPI 3.1 document from the app, as committed YAML.

``python -m csos_desktop.sandbox.distributor.openapi --write`` (or
``csos sandbox openapi --write``) refreshes ``resources/openapi/distributor.yaml``.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

import yaml

from csos_desktop.sandbox.distributor.app import create_app

SPEC_RESOURCE = "resources/openapi/distributor.yaml"
_HEADER = (
    "# GENERATED from csos_desktop/sandbox/distributor/app.py -- do not edit.\n"
    "# Refresh: csos sandbox openapi --write\n"
)


class _Dumper(yaml.SafeDumper):  # type: ignore[misc,unused-ignore]
    """Safe YAML with multi-line strings as literal blocks (readable descriptions)."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    node: yaml.ScalarNode = dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)
    return node


_Dumper.add_representer(str, _text)


def render() -> str:
    """The spec as YAML text, keys in the app's order."""
    spec = create_app().openapi()
    text: str = yaml.dump(spec, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return _HEADER + text


def committed_path() -> Path:
    return Path(str(resources.files("csos_desktop").joinpath(SPEC_RESOURCE)))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if "--write" in args:
        committed_path().write_text(text, encoding="utf-8")
        print(f"written: {committed_path()}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
