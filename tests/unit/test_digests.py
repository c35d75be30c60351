"""mllint's digests are hashlib's, byte for byte (cache keys and fingerprints must not change with the module)."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from mllint.digests import blake2b, sha256


@given(st.binary(max_size=300))
def test_the_digests_are_hashlibs(data: bytes) -> None:
    assert sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
    assert blake2b(data, digest_size=16).hexdigest() == hashlib.blake2b(data, digest_size=16).hexdigest()
