#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fail each allocation of an mp-bind request in turn, as syzkaller does:
/proc/thread-self/fail-nth makes the Nth fault-injection site this thread
reaches fail (slab and page allocations, with failslab and fail_page_alloc
told not to ignore sleeping allocations). It is set right before the
request is sent, so the sites are those of the request's path in the
kernel; N goes up until the request completes before reaching N sites
(its end: fail-nth is left unconsumed). Every failure must be a clean
refusal, and nothing may be left bound. A sweep that stops before the
request's end, at its cap of sites or its deadline, covered only part of
the path: that is a failure too, not a smaller success.

usage: alloc_nth.py [--max-sites N] [--secs S] IFINDEX QUEUE
                    [JSON: {"type": "huge"|"cap", ...}]
prints diagnostics ("# ...") and a last line "<sites> <refused> <bad>";
exit 0 if bad is 0
"""

import argparse
import errno
import json
import os
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import nlfuzz  # noqa: E402  pylint: disable=wrong-import-position

FAIL_NTH = '/proc/thread-self/fail-nth'


def bind_request(ifindex, queue, spec):
    """An mp-bind of @queue: spec {"type": "huge", "blocks": N, "policy":
    NAME} or {"type": "cap", "cap": N}."""
    q = (nlfuzz.nla(nlfuzz.A_QUEUE_ID, nlfuzz.u32(queue)) +
         nlfuzz.nla(nlfuzz.A_QUEUE_TYPE, nlfuzz.u32(0)))
    if spec.get('type') == 'cap':
        nest = nlfuzz.nla(nlfuzz.A_CAP | nlfuzz.NLA_F_NESTED,
                          nlfuzz.nla(nlfuzz.CAP_CAP, struct.pack('=Q', spec['cap'])))
        mp_type = 2
    else:
        h = b''
        if 'blocks' in spec:
            h += nlfuzz.nla(nlfuzz.HUGE_BLOCKS, struct.pack('=Q', spec['blocks']))
        if 'policy' in spec:
            h += nlfuzz.nla(nlfuzz.HUGE_POLICY, spec['policy'].encode() + b'\0')
        nest = nlfuzz.nla(nlfuzz.A_HUGE | nlfuzz.NLA_F_NESTED, h)
        mp_type = 1
    return (nlfuzz.nla(nlfuzz.A_IFINDEX, nlfuzz.u32(ifindex)) +
            nlfuzz.nla(nlfuzz.A_TYPE, nlfuzz.u32(mp_type)) +
            nlfuzz.nla(nlfuzz.A_QUEUES | nlfuzz.NLA_F_NESTED, q) + nest)


def main():
    ap = argparse.ArgumentParser()
    # an mp-bind of a hugepage binding with the per-CPU policy reached
    # 311 sites (README, 2026-11): the cap leaves room for the path to grow
    ap.add_argument('--max-sites', type=int, default=2000)
    ap.add_argument('--secs', type=float, default=600,
                    help='wall-clock budget of the sweep')
    ap.add_argument('ifindex', type=int)
    ap.add_argument('queue', type=int)
    ap.add_argument('spec', nargs='?', default='{"blocks": 1}')
    args = ap.parse_args()
    g = nlfuzz.Genl()
    req = bind_request(args.ifindex, args.queue, json.loads(args.spec))
    before = set(nlfuzz.bindings(g))
    refused = bad = 0
    end, new = False, set()
    deadline = time.monotonic() + args.secs
    n = 0
    while not end and n < args.max_sites and time.monotonic() < deadline:
        n += 1
        # fresh descriptors, opened before fail-nth is set: the file does
        # not seek, and opening it would itself count
        rfd = os.open(FAIL_NTH, os.O_RDONLY)
        wfd = os.open(FAIL_NTH, os.O_WRONLY)
        seq = None
        try:
            os.write(wfd, str(n).encode())
            try:
                seq = g.send(g.family, nlfuzz.CMD_MP_BIND, req)
            except OSError as e:
                # the request's own skb was the one to fail: it never left
                if e.errno not in (errno.ENOMEM, errno.ENOBUFS):
                    raise
                print(f'# fail-nth {n}: not sent, {errno.errorcode[e.errno]}')
            left = int(os.read(rfd, 32).strip() or 0)
        finally:
            os.write(wfd, b'0')
            os.close(rfd)
            os.close(wfd)
        if seq is None:
            continue
        try:
            err, msgs = g.recv_all(seq)
        except OSError as e:
            # the reply's skb failed (netlink reports it as ENOBUFS on
            # the socket): what the request did is read from the state
            if e.errno != errno.ENOBUFS:
                raise
            err, msgs = None, []
            print(f'# fail-nth {n}: reply lost')
        if err:
            refused += 1
            print(f'# fail-nth {n}: refused, {errno.errorcode.get(err, err)}')
            if err not in (errno.ENOMEM, errno.ENOBUFS, errno.EAGAIN):
                bad += 1
        new = set(nlfuzz.bindings(g)) - before
        if err == 0 or err is None:
            # done (or perhaps done, its reply lost): undo it
            for bid in new:
                uerr, _ = g.request(nlfuzz.CMD_MP_UNBIND,
                                    nlfuzz.nla(nlfuzz.A_ID, nlfuzz.u32(bid)))
                if uerr:
                    print(f'# fail-nth {n}: unbind {bid}: {uerr}')
                    bad += 1
            if err == 0 and len(new) != 1:
                print(f'# fail-nth {n}: done, but {len(new)} new bindings')
                bad += 1
            new = set(nlfuzz.bindings(g)) - before
        if new:
            print(f'# fail-nth {n}: left bindings {sorted(new)}')
            bad += 1
            break
        # the request completed before its Nth site: all are done
        end = left > 0
    if end:
        n -= 1
    elif not new:
        why = (f'its cap of {args.max_sites} sites' if n >= args.max_sites
               else f'its {args.secs:.0f} s budget')
        print(f'# stopped after fail-nth {n}, at {why}, before the request\'s end: '
              'the sites past it were never failed')
        bad += 1
    print(f'{n} {refused} {bad}')
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
