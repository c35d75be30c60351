"""ML knowledge as data: each table is a file beside this module, every row with its source."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any


@cache
def table(name: str) -> Any:
    return json.loads((Path(__file__).with_name(f"{name}.json")).read_text(encoding="utf-8"))
