#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Fold the call stacks of `perf script` into one line per distinct stack.

Each line is "comm;outermost;...;innermost count": the input of a flame
graph (flamegraph.pl, inferno-flamegraph, speedscope) and easy to grep.
Frames are function names without offsets; unknown frames are [unknown].

usage: perf script -i perf.data | stackfold.py [--grep REGEX] [--no-comm]
  --grep REGEX  keep only the stacks with a frame matching REGEX (Python re)
  --no-comm     do not start each stack with the task's name
exit: 0, or 1 when no stack was read
"""

import argparse
import collections
import re
import signal
import sys


def samples(lines):
    """Yield (comm, frames innermost first) per sample of perf script."""
    comm, frames = None, []
    for line in lines:
        line = line.rstrip('\n')
        if not line.strip():
            if comm is not None:
                yield comm, frames
            comm, frames = None, []
        elif line[0] in ' \t' and comm is not None:
            # "\t ffffffff81234567 func+0x1f ([kernel.kallsyms])"
            parts = line.split(None, 1)
            sym = parts[1] if len(parts) > 1 else '[unknown]'
            sym = re.sub(r'\s+\(.*\)$', '', sym)
            frames.append(re.sub(r'\+0x[0-9a-f]+$', '', sym) or '[unknown]')
        elif comm is None:
            # "iperf3  1234 [001]  123.456789: 1 mp_huge:mp_huge_refill: ..."
            comm = re.split(r'\s+\d+(/\d+)?\s+(\[\d+\])?', line.strip(), 1)[0]
    if comm is not None:
        yield comm, frames


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    ap = argparse.ArgumentParser(add_help=True)
    ap.add_argument('--grep')
    ap.add_argument('--no-comm', action='store_true')
    args = ap.parse_args()
    want = re.compile(args.grep) if args.grep else None
    folded = collections.Counter()
    read = 0
    for comm, frames in samples(sys.stdin):
        read += 1
        if want and not any(want.search(f) for f in frames):
            continue
        stack = list(reversed(frames))
        if not args.no_comm:
            stack.insert(0, comm.replace(' ', '_'))
        folded[';'.join(stack)] += 1
    for stack, n in sorted(folded.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f'{stack} {n}')
    return 0 if read else 1


if __name__ == '__main__':
    sys.exit(main())
