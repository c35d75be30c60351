"""The one grammar that names rules, wherever a user names them: `--select`/`--ignore`/`--severity`, the
configuration, `# mllint: disable=` comments and the `mllint.dev/ignore` annotation.

A selector is
- a rule id, in any case (`ML101`, `ml101`);
- a prefix of whole letters and some leading digits, in any case (`ML1`, `ML`, `ACME0`; never `M` or `AC`);
- a rule name, exactly as written in its metadata (`gpu-request-without-limit`);
- `all`, in any case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from mllint import lazy_re

_PREFIX = lazy_re.compile(r"([A-Z]+)[0-9]*")
HINT = "give an id such as ML101, a name, or a prefix such as ML1"


def resolve(selector: str, names: Mapping[str, str]) -> list[str]:
    """The ids that `selector` names, in id order; `names` maps each rule id to its name."""
    sel = selector.strip()
    for rid, name in names.items():
        if name == sel:
            return [rid]
    upper = sel.upper()
    if upper == "ALL":
        return sorted(names)
    prefix = _PREFIX.fullmatch(upper)
    if prefix is None:
        return []
    return sorted(rid for rid in names if rid.startswith(upper) and rid.rstrip("0123456789") == prefix.group(1))


def matches(selector: str, rule_id: str, names: Mapping[str, str]) -> bool:
    """Whether `selector` names the rule `rule_id`."""
    return rule_id in resolve(selector, names)


def exact(selector: str, names: Mapping[str, str]) -> str | None:
    """The one rule an id or a name (not a prefix, not `all`) names."""
    sel = selector.strip()
    if sel.upper() in names:
        return sel.upper()
    return next((rid for rid, name in names.items() if name == sel), None)


def suggestion(selector: str, names: Mapping[str, str]) -> str | None:
    """The id or name a selector that names no rule was probably meant to be: `ML1O1` → `ML101` (letters
    that look like digits), `ML1011` → `ML101` (one character off); None when nothing is that close."""
    sel = selector.strip()
    if re.fullmatch(r"[A-Za-z]+[0-9A-Za-z]*[0-9][0-9A-Za-z]*", sel):
        letters = re.match(r"[A-Za-z]+", sel)
        head = letters.group(0).upper() if letters else ""
        tail = sel[len(head) :].upper().translate(str.maketrans("OILS", "0115"))
        if head + tail in names:
            return head + tail
        close = [rid for rid in names if _one_edit(sel.upper(), rid)]
    else:
        close = [name for name in names.values() if _one_edit(sel.lower(), name)]
        close = close or _close_matches(sel.lower(), list(names.values()))
    return sorted(close)[0] if close else None


def _one_edit(a: str, b: str) -> bool:
    """Whether b is a with one character changed, added or removed, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def hint(selector: str, names: Mapping[str, str]) -> str:
    """What to write instead of a selector that names no rule."""
    close = suggestion(selector, names)
    return f"did you mean {close!r}?" if close else HINT


def unknown_message(selector: str, names: Mapping[str, str]) -> str:
    """Why `selector` is refused, with a `did you mean` where one is close."""
    return f"{selector!r} matches no rule ({hint(selector, names)})"


def expand(selectors: Iterable[str], names: Mapping[str, str]) -> set[str]:
    """Every id the selectors name together (selectors that name nothing add nothing)."""
    return {rid for sel in selectors for rid in resolve(sel, names)}


def _close_matches(word: str, candidates: list[str]) -> list[str]:
    import difflib  # only for a selector that names nothing: not worth its import on every run

    return difflib.get_close_matches(word, candidates, n=1, cutoff=0.85)
