"""The package index pip is configured to use, so that no script here names a registry.

    python scripts/pip_index.py          # the simple index, for pip's --index-url
    python scripts/pip_index.py --json   # the JSON API beside it: <root>/<name>/json

The first that is set wins: PIP_INDEX_URL, `pip config get global.index-url`, then
`install.index-url`, then pip's own default index.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

KEYS = ("global.index-url", "install.index-url")


def simple_index() -> str:
    """The index URL pip would install from."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"].split()[0]
    for key in KEYS:
        done = subprocess.run(  # noqa: S603 - this interpreter's own pip
            [sys.executable, "-m", "pip", "config", "get", key],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.split()[0]
    from pip._internal.models.index import PyPI  # pip's default; no stable public API

    return str(PyPI.simple_url)


def json_api(index: str) -> str:
    """Where the project JSON lives for a simple index: ``.../simple`` -> ``.../pypi``."""
    root = index.rstrip("/")
    if root.endswith("/simple"):
        root = root.removesuffix("/simple")
    return f"{root}/pypi"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the JSON API root instead")
    args = parser.parse_args()
    index = simple_index()
    print(json_api(index) if args.json else index)
    return 0


if __name__ == "__main__":
    sys.exit(main())
