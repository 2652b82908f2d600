"""A partial vulnerability audit for machines where pip-audit cannot reach a service.

PyPI's project JSON (`/pypi/<name>/json`, which package mirrors also serve) lists the
known vulnerabilities of a project's *latest* release. So every installed package that is
at its latest release can be checked against that list; a package behind its latest
release cannot (the list says nothing about older versions) and is reported as such.
Exit 1 when a checked package has a vulnerability that docs/pip-audit.md does not list as
an exception, or when the index cannot be read at all.

    python scripts/audit_latest.py [--index <JSON API root>]

The index defaults to the one pip is configured with (scripts/pip_index.py --json).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

EXCEPTIONS_DOC = Path(__file__).resolve().parent.parent / "docs" / "pip-audit.md"
EXCEPTION_ROW = re.compile(r"^\| `([A-Za-z]+-[A-Za-z0-9-]+)` \|", re.M)


@dataclass
class Finding:
    name: str
    installed: str
    latest: str | None = None
    vulnerabilities: list[dict[str, object]] = field(default_factory=list)
    error: str | None = None

    @property
    def at_latest(self) -> bool:
        return self.latest is not None and self.installed.split("+")[0] == self.latest


def installed() -> dict[str, str]:
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found[re.sub(r"[-_.]+", "-", name).lower()] = dist.version
    return found


def look_up(index: str, name: str, version: str) -> Finding:
    finding = Finding(name, version)
    try:
        # The index URL is the caller's (--index), https by default.
        with urllib.request.urlopen(f"{index}/{name}/json", timeout=30) as response:  # noqa: S310
            project = json.load(response)
    except OSError as exc:
        finding.error = str(exc)
        return finding
    finding.latest = project["info"]["version"]
    finding.vulnerabilities = project.get("vulnerabilities") or []
    return finding


def ids_of(vulnerability: dict[str, object]) -> set[str]:
    aliases = vulnerability.get("aliases")
    names = [str(a) for a in aliases] if isinstance(aliases, list) else []
    return {str(vulnerability.get("id")), *names}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", help="JSON API root (default: pip's configured index)")
    args = parser.parse_args()
    if args.index is None:
        from pip_index import json_api, simple_index  # beside this script

        args.index = json_api(simple_index())
    accepted = set(EXCEPTION_ROW.findall(EXCEPTIONS_DOC.read_text(encoding="utf-8")))
    packages = installed()
    with ThreadPoolExecutor(max_workers=8) as pool:
        findings = list(pool.map(lambda item: look_up(args.index, *item), packages.items()))
    checked = [f for f in findings if f.at_latest]
    behind = sorted((f for f in findings if f.latest and not f.at_latest), key=lambda f: f.name)
    unknown = sorted((f for f in findings if f.latest is None), key=lambda f: f.name)
    vulnerable = [(f, v) for f in checked for v in f.vulnerabilities if not ids_of(v) & accepted]
    excepted = [(f, v) for f in checked for v in f.vulnerabilities if ids_of(v) & accepted]
    print(f"{len(findings)} installed packages; {len(checked)} at their latest release checked")
    for f, v in excepted:
        print(f"  accepted (docs/pip-audit.md): {f.name} {f.installed} {v.get('id')}")
    for f, v in vulnerable:
        print(f"  VULNERABLE: {f.name} {f.installed} {v.get('id')} {v.get('summary') or ''}")
    print(f"{len(behind)} behind their latest release, not checkable this way:")
    print("  " + ", ".join(f"{f.name} {f.installed} (latest {f.latest})" for f in behind))
    if unknown:
        print(f"{len(unknown)} not found on the index: {', '.join(f.name for f in unknown)}")
    if len(unknown) == len(findings):
        print("The index could not be read at all.", file=sys.stderr)
        return 1
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
