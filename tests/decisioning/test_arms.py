"""Champion/challenger arms: a salted hash of the USCC splits enterprises stably and in the right share."""

from __future__ import annotations

import hashlib
import math

from puhui.core.identifiers import make_uscc
from puhui.decisioning.arms import CHALLENGER, CHAMPION, assign_arm, bucket

USCCS = [make_uscc("9", "1", "440106", f"{n:08d}") for n in range(100_000)]


def test_bucket_is_the_salted_sha256_prefix() -> None:
    uscc = USCCS[7]
    digest = hashlib.sha256(f"exp-1:{uscc}".encode()).digest()
    assert bucket(uscc, "exp-1") == int.from_bytes(digest[:8], "big") / 2**64
    assert 0 <= bucket(uscc, "exp-1") < 1
    assert bucket(uscc.lower(), "exp-1") == bucket(uscc, "exp-1")  # the USCC's letters in either case


def test_split_share_on_100k_usccs_is_within_binomial_tolerance() -> None:
    for share in (0.05, 0.2, 0.5):
        n = sum(assign_arm(u, share, "exp-1") == CHALLENGER for u in USCCS)
        sd = math.sqrt(len(USCCS) * share * (1 - share))
        assert abs(n - share * len(USCCS)) < 4 * sd, (share, n)


def test_arms_are_stable_monotone_in_share_and_independent_across_salts() -> None:
    sample = USCCS[:20_000]
    first = [assign_arm(u, 0.3, "exp-1") for u in sample]
    assert first == [assign_arm(u, 0.3, "exp-1") for u in sample]  # stable
    wider = [assign_arm(u, 0.5, "exp-1") for u in sample]
    assert all(w == CHALLENGER for f, w in zip(first, wider, strict=True) if f == CHALLENGER)  # ramp-up only adds
    other = [assign_arm(u, 0.3, "exp-2") for u in sample]
    both = sum(a == b == CHALLENGER for a, b in zip(first, other, strict=True))
    # independent splits overlap in share² of enterprises (0.09 × 20 000 = 1 800, sd ≈ 40)
    assert abs(both - 0.09 * len(sample)) < 4 * math.sqrt(len(sample) * 0.09 * 0.91)
    assert assign_arm(sample[0], 0.0, "exp-1") == CHAMPION
    assert all(assign_arm(u, 1.0, "exp-1") == CHALLENGER for u in sample[:100])
