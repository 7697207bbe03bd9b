"""IPv4 membership kernel: is each address covered by any listed address or CIDR prefix, and by which ones.

Layout (built once per indicator set, then shared read-only; about 8 MiB for a million addresses and a hundred
thousand prefixes, so the whole index stays in cache):

* ``touched`` - one bit per /24 prefix (2^24 bits, 2 MiB, little-endian packed): some indicator covers part or
  all of that /24.
* ``full`` - one bit per /24: a CIDR of length <= 24 covers all of it.
* ``partial`` - one bit per /24 that is touched but not full, with ``partial_rank`` (the number of partial bits
  before each 64-bit word) so that the k-th partial /24 finds its 256-bit row in ``bitmaps`` by rank
  (``rank[w] + popcount(word & below)``), without a 2^24-entry pointer table.
* ``bitmaps`` - one 32-byte row per partial /24: which of its 256 addresses are listed (exact addresses and
  CIDRs longer than /24).

Membership of a batch, processed in cache-sized chunks: the pass over every row is a gather from ``touched``
plus shifts; the few candidate rows then test ``full``, and the rest their address bit in the ranked row.
Which indicators cover a hit (rare) is resolved afterwards with one ``searchsorted`` per prefix length present.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

U32 = npt.NDArray[np.uint32]
I64 = npt.NDArray[np.int64]

_SLOTS = 1 << 24
_ROW_BYTES = 32
_CHUNK = 1 << 16


@dataclass(frozen=True)
class PrefixTable:
    """Networks of one prefix length, sorted, with the indicator row each came from."""

    length: int
    networks: U32
    owners: I64


class IPv4Matcher:
    """Exact IPv4 membership over addresses and CIDR prefixes (see the module docstring)."""

    def __init__(self, networks: U32, lengths: npt.NDArray[np.int64], owners: I64) -> None:
        """``networks``/``lengths`` describe prefixes (an address is a /32); ``owners`` the indicator row of each."""
        networks = np.asarray(networks, dtype=np.uint32)
        lengths = np.asarray(lengths, dtype=np.int64)
        owners = np.asarray(owners, dtype=np.int64)
        masks = np.where(lengths == 0, 0, (0xFFFFFFFF << (32 - lengths)) & 0xFFFFFFFF).astype(np.uint32)
        networks = networks & masks
        self.tables: tuple[PrefixTable, ...] = tuple(self._prefix_tables(networks, lengths, owners))
        slot, self.bitmaps = self._build(networks, lengths)
        self.touched = np.packbits(slot >= 0, bitorder="little")
        self.full = np.packbits(slot == 0, bitorder="little")
        partial = np.packbits(slot > 0, bitorder="little")
        self.partial_words = partial.view(np.uint64)
        counts = np.bitwise_count(self.partial_words).astype(np.int64)
        self.partial_rank = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)

    @staticmethod
    def _prefix_tables(networks: U32, lengths: npt.NDArray[np.int64], owners: I64) -> list[PrefixTable]:
        out = []
        for length in np.unique(lengths):
            sel = lengths == length
            order = np.argsort(networks[sel], kind="stable")
            out.append(PrefixTable(int(length), networks[sel][order], owners[sel][order]))
        return out

    @staticmethod
    def _build(networks: U32, lengths: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.uint8]]:
        wide = lengths <= 24
        diff = np.zeros(_SLOTS + 1, dtype=np.int32)
        lo = (networks[wide] >> 8).astype(np.int64)
        span = (1 << (24 - lengths[wide])).astype(np.int64)
        np.add.at(diff, lo, 1)
        np.add.at(diff, lo + span, -1)
        full = np.cumsum(diff[:-1], dtype=np.int32) > 0
        slot = np.full(_SLOTS, -1, dtype=np.int32)
        slot[full] = 0
        narrow = ~wide
        n_addr = (1 << (32 - lengths[narrow])).astype(np.int64)
        base = np.repeat(networks[narrow].astype(np.int64), n_addr)
        within = np.arange(int(n_addr.sum()), dtype=np.int64) - np.repeat(np.cumsum(n_addr) - n_addr, n_addr)
        addrs = (base + within).astype(np.uint32)
        addrs = addrs[~full[addrs >> 8]]
        slots, row_of = np.unique(addrs >> 8, return_inverse=True)
        bitmaps = np.zeros((len(slots) + 1) * _ROW_BYTES, dtype=np.uint8)
        bitmaps[:_ROW_BYTES] = 0xFF
        low = (addrs & 255).astype(np.int64)
        rows = row_of.astype(np.int64) + 1
        np.bitwise_or.at(bitmaps, rows * _ROW_BYTES + (low >> 3), (1 << (low & 7)).astype(np.uint8))
        slot[slots] = np.arange(1, len(slots) + 1, dtype=np.int32)
        return slot, bitmaps

    def contains(self, addresses: U32) -> npt.NDArray[np.bool_]:
        """For every address, whether any indicator covers it."""
        x = np.ascontiguousarray(addresses, dtype=np.uint32)
        out = np.zeros(len(x), dtype=np.bool_)
        word = np.empty(_CHUNK, dtype=np.uint32)
        shift = np.empty(_CHUNK, dtype=np.uint8)
        byte = np.empty(_CHUNK, dtype=np.uint8)
        touched, full, bitmaps = self.touched, self.full, self.bitmaps
        pwords, prank = self.partial_words, self.partial_rank
        one = np.uint64(1)
        for start in range(0, len(x), _CHUNK):
            chunk = x[start : start + _CHUNK]
            n = len(chunk)
            w, sh, by = word[:n], shift[:n], byte[:n]
            np.right_shift(chunk, 11, out=w)
            np.take(touched, w, out=by)
            np.right_shift(chunk, 8, out=w)
            np.bitwise_and(w, 7, out=w)
            np.copyto(sh, w, casting="unsafe")
            np.right_shift(by, sh, out=by)
            cand = np.flatnonzero(by & 1)
            if len(cand) == 0:
                continue
            xc = chunk[cand]
            hi = xc >> 8
            is_full = ((full[hi >> 3] >> (hi & 7).astype(np.uint8)) & 1).astype(np.bool_)
            hit = is_full
            part = np.flatnonzero(~is_full)
            if len(part):
                hp = hi[part].astype(np.int64)
                wi = hp >> 6
                below = (one << (hp & 63).astype(np.uint64)) - one
                row = prank[wi] + np.bitwise_count(pwords[wi] & below).astype(np.int64) + 1
                low = xc[part]
                bits = bitmaps[row * _ROW_BYTES + ((low & 255) >> 3)]
                hit[part] = ((bits >> (low & 7).astype(np.uint8)) & 1).astype(np.bool_)
            out[start + cand] = hit
        return out

    def owners_of(self, addresses: U32) -> tuple[I64, I64]:
        """All (position, indicator row) pairs for addresses covered by an indicator; meant for hits only."""
        x = np.asarray(addresses, dtype=np.uint32)
        pos_parts: list[I64] = []
        own_parts: list[I64] = []
        for table in self.tables:
            mask = np.uint32((0xFFFFFFFF << (32 - table.length)) & 0xFFFFFFFF) if table.length else np.uint32(0)
            net = x & mask
            left = np.searchsorted(table.networks, net, side="left")
            right = np.searchsorted(table.networks, net, side="right")
            count = right - left
            has = np.flatnonzero(count > 0)
            if len(has) == 0:
                continue
            reps = count[has]
            pos = np.repeat(has, reps)
            idx = np.repeat(left[has], reps) + (np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps))
            pos_parts.append(pos.astype(np.int64))
            own_parts.append(table.owners[idx])
        if not pos_parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        pos = np.concatenate(pos_parts)
        own = np.concatenate(own_parts)
        order = np.lexsort((own, pos))
        return pos[order], own[order]
