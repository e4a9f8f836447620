"""The in-order hash sequencer: ordering, the budget, duplicates and overlaps."""

from __future__ import annotations

import hashlib
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfc_core._transfer_hash import HashSequencer

DATA = bytes(range(256)) * 4


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_in_order_chunks_are_hashed_at_once() -> None:
    seq = HashSequencer(budget=0)
    for at in range(0, len(DATA), 100):
        assert seq.offer(at, DATA[at : at + 100])
        assert seq.held_bytes == 0
    assert seq.cursor == len(DATA)
    assert seq.hexdigest() == _sha(DATA)


def test_chunks_ahead_are_held_until_the_cursor_reaches_them() -> None:
    seq = HashSequencer(budget=1000)
    assert seq.offer(200, DATA[200:300])
    assert seq.offer(100, DATA[100:200])
    assert (seq.cursor, seq.held_bytes) == (0, 200)
    assert seq.offer(0, DATA[0:100])
    assert (seq.cursor, seq.held_bytes) == (300, 0)
    assert seq.hexdigest() == _sha(DATA[:300])


def test_a_full_window_refuses_chunks_ahead_but_never_the_one_at_the_cursor() -> None:
    seq = HashSequencer(budget=150)
    assert seq.offer(100, DATA[100:200])
    assert not seq.offer(200, DATA[200:300])  # would hold 200 > 150
    assert seq.held_bytes == 100
    assert seq.offer(0, DATA[0:100])  # at the cursor: always taken, drains the window
    assert (seq.cursor, seq.held_bytes) == (200, 0)
    assert seq.offer(200, DATA[200:300])
    assert seq.cursor == 300


def test_a_chunk_larger_than_the_window_waits_for_the_cursor() -> None:
    seq = HashSequencer(budget=10)
    assert not seq.offer(5, DATA[5:50])
    assert seq.offer(0, DATA[0:5])
    assert seq.offer(5, DATA[5:50])
    assert seq.hexdigest() == _sha(DATA[:50])


def test_bytes_behind_the_cursor_are_not_hashed_again() -> None:
    seq = HashSequencer(budget=0)
    seq.offer(0, DATA[:300])
    assert seq.offer(0, DATA[:100])  # a retried part resending its first bytes
    assert seq.offer(200, DATA[200:400])  # straddles the cursor: only 300..400 is new
    assert seq.cursor == 400
    assert seq.hexdigest() == _sha(DATA[:400])


def test_a_resent_chunk_ahead_is_held_once() -> None:
    seq = HashSequencer(budget=150)
    assert seq.offer(100, DATA[100:200])
    assert seq.offer(100, DATA[100:200])
    assert seq.held_bytes == 100
    assert seq.offer(100, DATA[100:150])  # shorter than what is held: nothing to add
    assert seq.offer(0, DATA[:100])
    assert seq.hexdigest() == _sha(DATA[:200])


def test_a_longer_chunk_at_a_held_offset_replaces_it() -> None:
    seq = HashSequencer(budget=500)
    assert seq.offer(100, DATA[100:150])
    assert seq.offer(100, DATA[100:300])
    assert seq.held_bytes == 200
    assert seq.offer(0, DATA[:100])
    assert (seq.cursor, seq.held_bytes) == (300, 0)
    assert seq.hexdigest() == _sha(DATA[:300])


def test_hashing_can_start_past_zero() -> None:
    seq = HashSequencer(budget=0, start=10)
    assert seq.offer(10, b"abc")
    assert seq.cursor == 13
    assert seq.hexdigest() == _sha(b"abc")


def test_negative_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="budget"):
        HashSequencer(budget=-1)


@st.composite
def _offers(draw: st.DrawFn) -> tuple[bytes, list[tuple[int, bytes]], int]:
    """Data, a shuffled list of chunks covering it (plus duplicates and overlapping extra
    slices, as retries produce), and a budget."""
    data = draw(st.binary(min_size=1, max_size=400))
    cuts = (
        sorted(draw(st.sets(st.integers(1, len(data) - 1), max_size=12))) if len(data) > 1 else []
    )
    bounds = [0, *cuts, len(data)]
    chunks = [(a, data[a:b]) for a, b in itertools.pairwise(bounds)]
    for _ in range(draw(st.integers(0, 6))):
        a = draw(st.integers(0, len(data) - 1))
        b = draw(st.integers(a + 1, len(data)))
        chunks.append((a, data[a:b]))
    order = draw(st.permutations(chunks))
    budget = draw(st.integers(0, 500))
    return data, list(order), budget


@given(_offers())
def test_any_arrival_order_hashes_the_data_in_order(
    case: tuple[bytes, list[tuple[int, bytes]], int],
) -> None:
    data, pending, budget = case
    seq = HashSequencer(budget=budget)
    while pending:
        refused = []
        for offset, chunk in pending:
            before = seq.cursor
            accepted = seq.offer(offset, chunk)
            assert seq.held_bytes <= budget
            assert seq.cursor >= before
            if offset <= before:
                assert accepted, "the chunk at or behind the cursor must always be taken"
            if not accepted:
                refused.append((offset, chunk))
        # every pass takes the chunk that covers the cursor, so this always ends
        assert len(refused) < len(pending) or not refused
        pending = refused
    assert seq.cursor == len(data)
    assert seq.held_bytes == 0
    assert seq.hexdigest() == _sha(data)


def test_a_claim_hashes_outside_and_drains_what_arrived_meanwhile() -> None:
    seq = HashSequencer(budget=250)
    claimed = seq.claim(0, DATA[0:100])
    assert isinstance(claimed, memoryview)
    assert bytes(claimed) == DATA[0:100]
    # While the claim is held, even the chunk right after it, or one at the cursor, is held.
    assert seq.claim(100, DATA[100:200]) is True
    assert seq.claim(50, DATA[50:150]) is True
    assert seq.claim(200, DATA[200:300]) is False  # the window is full
    assert (seq.cursor, seq.held_bytes) == (0, 200)
    seq.update(claimed)
    nxt = seq.advance(claimed)
    assert seq.cursor == 100
    assert nxt is not None
    assert bytes(nxt) == DATA[100:150]
    seq.update(nxt)
    nxt = seq.advance(nxt)
    assert nxt is not None
    assert bytes(nxt) == DATA[150:200]
    seq.update(nxt)
    assert seq.advance(nxt) is None
    assert (seq.cursor, seq.held_bytes) == (200, 0)
    assert seq.claim(0, DATA[0:200]) is True  # already hashed
    again = seq.claim(200, DATA[200:300])
    assert isinstance(again, memoryview)
    seq.update(again)
    assert seq.advance(again) is None
    assert seq.hexdigest() == _sha(DATA[:300])


@given(st.permutations(range(8)))
def test_claims_in_any_order_hash_the_whole(order: list[int]) -> None:
    seq = HashSequencer(budget=len(DATA))
    step = len(DATA) // 8
    for n in order:
        view: memoryview | bool | None = seq.claim(n * step, DATA[n * step : (n + 1) * step])
        while isinstance(view, memoryview):
            seq.update(view)
            view = seq.advance(view)
    assert (seq.cursor, seq.held_bytes) == (len(DATA), 0)
    assert seq.hexdigest() == _sha(DATA)
