"""The hash functions mllint keys its cache and fingerprints on, from CPython's own modules where it has them.

`hashlib` loads OpenSSL's binding first (2 ms of a one-file scan's start-up) to offer the same two algorithms;
the digests are the same bytes either way.
"""

from __future__ import annotations

try:
    from _blake2 import blake2b
except ImportError:  # another interpreter, or a build without it
    from hashlib import blake2b

try:
    from _sha2 import sha256  # type: ignore[import-not-found,unused-ignore]  # CPython 3.12 and later
except ImportError:
    try:
        from _sha256 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]  # CPython 3.11, 3.10
    except ImportError:
        from hashlib import sha256

__all__ = ["blake2b", "sha256"]
