"""`mllint` and `python -m mllint`."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-V"]):  # answered before click and the rules are imported
        from mllint import __version__

        print(f"mllint {__version__}")
        return 0
    from mllint.cli import run

    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
