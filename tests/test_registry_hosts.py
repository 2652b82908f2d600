"""No tracked file names a package registry's host: the index is pip's own configuration
(scripts/pip_index.py), so a mirror or a private index needs no edit anywhere."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.helpers import ROOT

# Spelt in pieces so that this file does not match itself.
HOSTS = [
    ("pypi", "org"),
    ("pythonhosted", "org"),
    ("pypi", "python", "org"),
    ("download", "pytorch", "org"),
    ("anaconda", "org"),
    ("repo", "anaconda", "com"),
    ("registry", "npmjs", "org"),
    ("crates", "io"),
    ("proxy", "golang", "org"),
]
REGISTRY = re.compile("|".join(r"\.".join(parts) for parts in HOSTS), re.IGNORECASE)


def test_no_tracked_file_names_a_registry_host() -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    found = []
    for name in filter(None, listed.split("\0")):
        path = ROOT / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary: weights, images
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if REGISTRY.search(line):
                found.append(f"{name}:{number}: {line.strip()}")
    assert found == []


def test_the_index_comes_from_pip_configuration() -> None:
    mirror = "https://mirror.example/simple/"
    done = subprocess.run(
        [sys.executable, "scripts/pip_index.py", "--json"],
        cwd=ROOT,
        env={"PIP_INDEX_URL": mirror, "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "https://mirror.example/pypi"
