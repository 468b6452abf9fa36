#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Fragment physical memory: every free 2 MiB block keeps one page in use.

Round after round, takes free 2 MiB blocks as transparent huge pages (an
anonymous mapping, mlocked, which faults each aligned 2 MiB of it in: a
THP fault takes a whole free order-9 block, never the pieces smaller ones
are made of), splits them (debugfs split_huge_pages; the pages stay
mlocked), and unmaps every page but the first of each. Each block is then
free but for that one page: 511 free pages in pieces of order 8 and below
that cannot merge into an order-9 block while the page sits there. With
vm.compact_unevictable_allowed=0 compaction does not move mlocked
(unevictable) pages and, without swap, reclaim cannot take them: no free
2 MiB block can be made of these. With compact_unevictable_allowed=1
compaction moves them and the blocks come back.

Memory never runs low: a round holds at most --round blocks whole, and
most of what it takes is free again before the next one. Stops when at
most --leave free 2 MiB blocks (order 9 and up in /proc/buddyinfo) are
left, or when rounds stop finding any.

Prints what it did, then "ready" on a line of its own (stdout, flushed),
then holds its pages until killed (SIGTERM or SIGINT: exits 0). With
--hold it goes on taking, twice a second, the 2 MiB blocks that become
free (above --leave): memory that processes or the page cache gave back,
or that compaction made of it. SIGUSR1 ends that (it prints how many it
took meanwhile), and it keeps holding what it has. SIGUSR2 prints where
its pages are: "pages: N kept, N present, N moved, N unevictable" (moved:
at another page frame than when it took them, as compaction moves them).

Needs root (page frame numbers in /proc/self/pagemap, /proc/kpageflags,
debugfs), transparent huge pages "always" (there may be no madvise()),
debugfs mounted.

usage: fragment.py [--leave BLOCKS] [--round BLOCKS] [--hold]
"""

import argparse
import ctypes
import os
import signal
import struct
import sys
import time

PAGE = os.sysconf('SC_PAGE_SIZE')
BLOCK_ORDER = 9				# 2 MiB of 4 KiB pages
BLOCK = PAGE << BLOCK_ORDER
PROT_READ, PROT_WRITE = 0x1, 0x2
MAP_PRIVATE, MAP_ANONYMOUS = 0x02, 0x20
MAP_FAILED = ctypes.c_void_p(-1).value
PM_PRESENT = 1 << 63
PM_PFN = (1 << 55) - 1
KPF_UNEVICTABLE, KPF_THP, KPF_MLOCKED = 18, 22, 33
THP_ENABLED = '/sys/kernel/mm/transparent_hugepage/enabled'
SPLIT = '/sys/kernel/debug/split_huge_pages'
RETRIES = 0				# splits that had to be tried again

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
libc.mlock.argtypes = [ctypes.c_void_p, ctypes.c_size_t]


def die(what, err=None):
    if err is None:
        err = os.strerror(ctypes.get_errno())
    sys.exit(f'fragment.py: {what}: {err}')


def free_blocks():
    """Free 2 MiB blocks: order 9 and up, every zone."""
    n = 0
    with open('/proc/buddyinfo') as f:
        for line in f:
            counts = line.split()[4:]
            n += sum(int(c) << (o - BLOCK_ORDER)
                     for o, c in enumerate(counts) if o >= BLOCK_ORDER)
    return n


def memfree_mib():
    with open('/proc/meminfo') as f:
        for line in f:
            if line.startswith('MemFree:'):
                return int(line.split()[1]) >> 10
    return 0


class Frames:
    """Page frame numbers and flags of this process's pages (read
    unbuffered: a buffered file would answer from what it read before)."""

    def __init__(self):
        self.pagemap = os.open('/proc/self/pagemap', os.O_RDONLY)
        self.kpageflags = os.open('/proc/kpageflags', os.O_RDONLY)

    def pfn(self, addr):
        entry, = struct.unpack('Q', os.pread(self.pagemap, 8, addr // PAGE * 8))
        if not entry & PM_PRESENT:
            return None
        pfn = entry & PM_PFN
        if not pfn:
            die('no page frame numbers in /proc/self/pagemap', 'not root?')
        return pfn

    def flags(self, pfn):
        flags, = struct.unpack('Q', os.pread(self.kpageflags, 8, pfn * 8))
        return flags


def one_round(frames, split, nblocks):
    """Take up to nblocks free blocks; returns the kept pages (pfn, addr)."""
    size = (nblocks + 1) * BLOCK
    addr = libc.mmap(None, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    if addr in (None, MAP_FAILED):
        die('mmap')
    base = (addr + BLOCK - 1) & ~(BLOCK - 1)
    # mlock faults each aligned 2 MiB in: a huge page where a free block is
    # left, else small pages. Locked before it is split, every page of it
    # is unevictable from the start: compaction never moves the one kept.
    if libc.mlock(base, nblocks * BLOCK):
        die('mlock')
    thp = []
    for i in range(nblocks):
        pfn = frames.pfn(base + i * BLOCK)
        if pfn is not None and frames.flags(pfn) >> KPF_THP & 1:
            thp.append(base + i * BLOCK)
    # split them where they are mapped whole (their pages stay mlocked;
    # each named by its first page: the kernel walks the range page by
    # page), then unmap all but the first page of each, and whatever is
    # not a huge page: the rest is free at once
    for a in thp:
        split_once(split, a)
    start = addr
    for a in thp + [addr + size]:
        if a > start and libc.munmap(start, a - start):
            die('munmap')
        start = a + PAGE
    kept = []
    for a in thp:
        split_again(frames, split, a)
        kept.append((frames.pfn(a), a))
    return kept


def split_again(frames, split, addr):
    """A split can fail for a while (the huge page locked or referenced
    elsewhere: compaction, say): retry it for the page left at addr."""
    global RETRIES
    for _ in range(50):
        if not frames.flags(frames.pfn(addr)) >> KPF_THP & 1:
            return
        RETRIES += 1
        time.sleep(0.1)
        split_once(split, addr)


def split_once(split, addr):
    """Ask the kernel to split the huge page mapped at addr."""
    try:
        os.write(split, f'{os.getpid()},{addr:#x},{addr + PAGE:#x}'.encode())
    except OSError as e:
        die(SPLIT, e.strerror)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--leave', type=int, default=0,
                    help='free 2 MiB blocks to leave alone (default 0)')
    ap.add_argument('--round', type=int, default=32,
                    help='2 MiB blocks taken at most per round (default 32)')
    ap.add_argument('--hold', action='store_true',
                    help='go on taking blocks that become free, until SIGUSR1')
    args = ap.parse_args()
    holding = [args.hold]
    frames = Frames()
    kept = []

    def end(signum, frame):
        sys.exit(0)

    def stop_holding(signum, frame):
        holding[0] = False

    def where(signum, frame):
        now = [frames.pfn(a) for _, a in kept]
        present = [pfn for pfn in now if pfn is not None]
        moved = sum(1 for (pfn, _), new in zip(kept, now)
                    if new is not None and new != pfn)
        unevictable = sum(frames.flags(pfn) >> KPF_UNEVICTABLE & 1
                          for pfn in present)
        print(f'pages: {len(kept)} kept, {len(present)} present, {moved} moved, '
              f'{unevictable} unevictable', flush=True)
    signal.signal(signal.SIGTERM, end)
    signal.signal(signal.SIGINT, end)
    signal.signal(signal.SIGUSR1, stop_holding)
    signal.signal(signal.SIGUSR2, where)

    try:
        with open(THP_ENABLED) as f:
            if '[always]' not in f.read():
                die(THP_ENABLED, 'not "always"')
        split = os.open(SPLIT, os.O_WRONLY)
    except OSError as e:
        die(e.filename, e.strerror)
    before = free_blocks(), memfree_mib()
    rounds = idle = 0
    while free_blocks() > args.leave and idle < 3:
        got = one_round(frames, split, min(args.round, free_blocks() - args.leave))
        rounds += 1
        idle = 0 if got else idle + 1
        kept += got

    blocks = {pfn >> BLOCK_ORDER for pfn, _ in kept if pfn is not None}
    flags = [frames.flags(pfn) for pfn, _ in kept if pfn is not None]
    unevictable = sum(f >> KPF_UNEVICTABLE & 1 for f in flags)
    mlocked = sum(f >> KPF_MLOCKED & 1 for f in flags)
    still_thp = sum(f >> KPF_THP & 1 for f in flags)
    print(f'before: {before[0]} free 2 MiB blocks, MemFree {before[1]} MiB')
    print(f'{rounds} rounds took {len(kept)} free 2 MiB blocks as transparent '
          f'huge pages and gave back all but one page of each ({RETRIES} '
          f'splits tried again)')
    print(f'kept pages: {len(kept)} in {len(blocks)} distinct 2 MiB blocks, '
          f'{unevictable} unevictable, {mlocked} mlocked, {still_thp} still '
          f'part of a huge page (/proc/kpageflags)')
    print(f'after: {free_blocks()} free 2 MiB blocks (leave {args.leave}), '
          f'MemFree {memfree_mib()} MiB')
    if len(blocks) != len(kept) or still_thp or unevictable != len(kept):
        sys.exit('fragment.py: the kept pages are not one unevictable small '
                 'page in each block')
    print('ready', flush=True)
    more = 0
    while holding[0]:
        n = free_blocks() - args.leave
        if n > 0:
            got = one_round(frames, split, min(args.round, n))
            more += len(got)
            kept += got
        time.sleep(0.5)
    if args.hold:
        print(f'stopped holding: took {more} more 2 MiB blocks that had become '
              f'free; {free_blocks()} free now', flush=True)
    os.close(split)
    while True:
        signal.pause()


if __name__ == '__main__':
    main()
