#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Edges of mp-bind that once crashed or corrupted a driver's queues.

 - nid_bounds: a hugepage binding's NUMA node is a u32; values with the
   top bit set once passed the "nid >= MAX_NUMNODES" check as a negative
   int and reached node_online() (a KASAN wild-memory-access and an Oops).
   Every value past the largest node id is refused by the policy (ERANGE),
   every offline one by the provider (EINVAL), each with an extack naming
   .huge.nid, and nothing changes.
 - channel_shrink: a binding made while the device is down (pending), the
   device brought up (the queue's pool takes it), its channel count shrunk
   below the bound queue with ethtool -L, then unbound: the queue past the
   channel count has no ring, so it must not be restarted (netdevsim WARNs
   as a real driver would index past its rings); the unbind succeeds, the
   binding is gone and every huge page comes home.
 - refuse_before_reserve: a request refused for its queues reserved (and
   gave back) its huge pages before it looked at them: up to 1 GiB for
   nothing. Nothing is reserved for a refused request now.
 - moved_while_reserving: mp-bind reserves its huge pages without RTNL,
   between the two looks at the device; a device moved to another
   namespace meanwhile was bound all the same, with the old namespace's
   view of it. A bind of 256 huge pages (seconds in the debug guest) with
   the device moved 0.3 s in must be refused (ENODEV, "the device moved to
   another namespace"), leave no binding, and give its huge pages back.

usage: mp_edges.py [case...]   (as root, in the guest of scripts/vm.sh)
"""

import errno
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

HP_TOP = Path(__file__).resolve().parents[2]
HP_BUILD = Path(os.environ.get('HP_BUILD', HP_TOP / 'build'))
HP_KSRC = Path(os.environ.get('HP_KSRC', HP_BUILD / 'linux'))
sys.path.insert(0, str(HP_KSRC / 'tools/testing/selftests/net'))

# pylint: disable=wrong-import-position
from lib.py import (ksft_run, ksft_exit, ksft_eq, ksft_in, ksft_pr,  # noqa: E402
                    ksft_true, KsftFailEx, NetdevFamily, NlError, defer, ip)

NSIM = Path('/sys/bus/netdevsim')
DEBUGFS = Path('/sys/kernel/debug/mp_huge/bindings')


def wait(cond, secs, what):
    """Poll @cond until it holds, for at most @secs of wall clock."""
    end = time.monotonic() + secs
    while not cond():
        if time.monotonic() > end:
            raise KsftFailEx(f'timed out after {secs} s waiting for {what}')
        time.sleep(0.2)


def nsim(queues):
    """A netdevsim device with @queues queues, in this namespace; its name
    and ifindex. Deleted when the case ends."""
    addr = 2000 + os.getpid() % 1000 + queues * 1000
    (NSIM / 'new_device').write_text(f'{addr} 1 {queues}')
    defer((NSIM / 'del_device').write_text, f'{addr}')
    d = NSIM / f'devices/netdevsim{addr}/net'
    wait(lambda: d.exists() and any(d.iterdir()), 10, 'netdevsim netdev')
    name = next(d.iterdir()).name
    return name, int(Path(f'/sys/class/net/{name}/ifindex').read_text())


def expect_error(fn, err, text, attr):
    """@fn must fail with -@err, an extack saying @text and naming @attr."""
    try:
        fn()
    except NlError as e:
        ext = e.nl_msg.extack or {}
        ksft_pr(f'refused: {errno.errorcode.get(e.error, e.error)} {ext}')
        ksft_eq(e.error, err, f'errno for "{text}"')
        ksft_in(text, ext.get('msg', ''), 'extack message')
        ksft_eq(ext.get('bad-attr'), attr, 'extack names the attribute')
        return
    raise KsftFailEx(f'accepted, expected {errno.errorcode[err]}: {text}')


def state(f):
    """Every binding with what a refused request must not change, and the
    provider's view of them."""
    return (sorted(str(b) for b in f.mp_binding_get({}, dump=True)),
            DEBUGFS.read_text())


def warnings_since(mark):
    """Kernel log lines with WARNING: after the first @mark lines."""
    log = subprocess.run(['dmesg'], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    return [line for line in log[mark:] if 'WARNING:' in line]


def dmesg_lines():
    return len(subprocess.run(['dmesg'], capture_output=True, text=True,
                              check=True).stdout.splitlines())


def nid_bounds() -> None:
    f = NetdevFamily()
    _, ifindex = nsim(2)
    online = Path('/sys/devices/system/node/online').read_text().strip()
    possible = Path('/sys/devices/system/node/possible').read_text().strip()
    ksft_pr(f'nodes online {online}, possible {possible}')
    # a binding that must stay as it is through every refusal
    kept = f.mp_bind({'ifindex': ifindex, 'type': 'huge',
                      'queues': [{'id': 0, 'type': 'rx'}],
                      'huge': {'blocks': 1, 'max-blocks': 2}})
    defer(f.mp_unbind, {'id': kept['id']})
    before = state(f)

    def bind(nid):
        return lambda: f.mp_bind({'ifindex': ifindex, 'type': 'huge',
                                  'queues': [{'id': 1, 'type': 'rx'}],
                                  'huge': {'blocks': 1, 'nid': nid}})
    for nid in (0x80000000, 0xffffffff, 0xfffffffe, 1 << 31 | 1, 1024):
        expect_error(bind(nid), errno.ERANGE, 'out of range', '.huge.nid')
    # past the last possible node: no such node, not even offline
    last = int(possible.split('-')[-1].split(',')[-1])
    for nid in sorted({last + 1, 1023}):
        expect_error(bind(nid), errno.EINVAL, 'NUMA node is not online',
                     '.huge.nid')
    ksft_eq(state(f), before, 'the refusals changed nothing')


def refuse_before_reserve() -> None:
    """A request refused for its queues reserves no huge page first."""
    f = NetdevFamily()
    _, ifindex = nsim(2)
    inst = Path('/sys/kernel/tracing/instances') / f'hp-edges-{os.getpid()}'
    inst.mkdir()
    defer(inst.rmdir)
    ev = inst / 'events/mp_huge/mp_huge_block/enable'
    ev.write_text('1')
    defer(ev.write_text, '0')
    expect_error(lambda: f.mp_bind({'ifindex': ifindex, 'type': 'huge',
                                    'queues': [{'id': 7, 'type': 'rx'}],
                                    'huge': {'blocks': 16, 'max-blocks': 16}}),
                 errno.ERANGE, 'out of range', '.queues.id')
    ev.write_text('0')
    events = [line for line in (inst / 'trace').read_text().splitlines()
              if 'mp_huge_block:' in line]
    ksft_pr(f'{len(events)} huge pages added or returned')
    ksft_eq(len(events), 0, 'no huge page reserved for a refused request')


def held_blocks():
    """Huge pages held by every hugepage binding (the provider's view)."""
    for line in DEBUGFS.read_text().splitlines():
        if line.startswith('total blocks='):
            return int(line.split('=', 1)[1])
    raise KsftFailEx(f'no "total blocks=" in {DEBUGFS}')


def move_netns(ifindex, fd):
    """Move a device to the namespace of @fd, as `ip link set netns` does
    (RTM_NEWLINK, IFLA_NET_NS_FD), without a fork: under TCG a fork takes
    longer than the window this races with. Returns the errno (0: moved)."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0) as s:
        attr = struct.pack('=HHI', 8, 28, fd)                 # IFLA_NET_NS_FD
        body = struct.pack('=BxHiII', 0, 0, ifindex, 0, 0) + attr
        s.send(struct.pack('=IHHII', 16 + len(body), 16, 1 | 4, 1, 0) + body)
        data = s.recv(4096)
        return -struct.unpack_from('=i', data, 16)[0]


def moved_while_reserving() -> None:
    """mp-bind looks at the device under RTNL, reserves without it, and
    looks again: a device moved to another namespace in between must be
    refused. The window is the reservation (0.1-0.2 s for 512 huge pages
    in the debug guest), so the move is sent from here at a sweep of
    delays after the bind, until one lands in it."""
    f = NetdevFamily()
    name, ifindex = nsim(2)
    other = f'hp-edges-{os.getpid()}'
    ip(f'netns add {other}')
    defer(ip, f'netns del {other}')
    limit = Path('/proc/sys/net/core/mp_huge_limit_mb')
    was = limit.read_text().strip()
    limit.write_text('1024')
    defer(limit.write_text, was)
    held = held_blocks()
    here = os.open('/proc/self/ns/net', os.O_RDONLY)
    defer(os.close, here)
    there = os.open(f'/run/netns/{other}', os.O_RDONLY)
    defer(os.close, there)
    outcomes = []
    for attempt in range(30):
        delay = 0.01 * (attempt % 15)
        out = {}

        def bind(out=out):
            t0 = time.monotonic()
            try:
                out['ok'] = f.mp_bind({'ifindex': ifindex, 'type': 'huge',
                                       'queues': [{'id': 0, 'type': 'rx'}],
                                       'huge': {'blocks': 512, 'max-blocks': 512}})
            except NlError as e:
                out['err'] = e
            out['secs'] = time.monotonic() - t0
        t = threading.Thread(target=bind)
        t.start()
        time.sleep(delay)
        moved = move_netns(ifindex, there)
        t.join()
        # and back (its ifindex stays), for the next attempt and the cleanup
        if not moved:
            subprocess.run(['ip', '-n', other, 'link', 'set', name, 'netns',
                            str(os.getpid())], check=True)
        err = out.get('err')
        ext = (err.nl_msg.extack or {}) if err else {}
        what = (f'{errno.errorcode.get(err.error, err.error)}: {ext.get("msg", "")}'
                if err else f'bound ({out["ok"]["id"]})')
        outcomes.append(f'{delay:.2f} s: {what} ({out["secs"]:.2f} s, move {moved})')
        if not err:
            f.mp_unbind({'id': out['ok']['id']})
        # the huge pages of a binding unbound or refused go back from a
        # worker: the next attempt must not meet them in the limit
        wait(lambda: held_blocks() <= held, 60, 'the huge pages reserved given back')
        if err and err.error == errno.ENODEV and 'moved to another namespace' in ext.get('msg', ''):
            break
    ksft_pr('move sent after the bind by; answer (bind time, move errno): ' +
            '; '.join(outcomes))
    ksft_true('moved to another namespace' in outcomes[-1],
              'a bind whose device moved while it reserved: refused, "moved to another namespace"')
    ksft_true(all('bound' in o or 'moved' in o or 'no such device' in o for o in outcomes),
              'every other attempt bound before the move, or found no device')
    ksft_eq([b for b in f.mp_binding_get({}, dump=True) if b.get('ifindex') == ifindex], [],
            'no binding of the device left')
    wait(lambda: held_blocks() <= held, 60, 'the huge pages reserved given back')


def channel_shrink() -> None:
    f = NetdevFamily()
    name, ifindex = nsim(4)
    ip(f'link set {name} down')
    mark = dmesg_lines()
    b = f.mp_bind({'ifindex': ifindex, 'type': 'huge',
                   'queues': [{'id': 3, 'type': 'rx'}],
                   'huge': {'blocks': 1, 'max-blocks': 1}})
    ip(f'link set {name} up')
    q = f.queue_get({'ifindex': ifindex, 'type': 'rx', 'id': 3})
    ksft_pr(f'queue 3 after up: {q}')
    subprocess.run(['ethtool', '-L', name, 'combined', '2'], check=True)
    ksft_eq(sum(1 for d in Path(f'/sys/class/net/{name}/queues').iterdir()
                if d.name.startswith('rx-')), 2, 'two rx queues left')
    f.mp_unbind({'id': b['id']})
    ids = [x['id'] for x in f.mp_binding_get({'ifindex': ifindex}, dump=True)]
    ksft_true(b['id'] not in ids, f'binding {b["id"]} gone after unbind')
    ksft_eq(warnings_since(mark), [],
            'no WARNING: the queue past the channel count was not restarted')
    subprocess.run(['ethtool', '-L', name, 'combined', '4'], check=True)
    ip(f'link set {name} down')
    ip(f'link set {name} up')
    ksft_eq(warnings_since(mark), [], 'no WARNING after growing back')


def main() -> None:
    if os.geteuid():
        print('KTAP version 1\n1..0 # SKIP needs root')
        sys.exit(4)
    if not (NSIM / 'new_device').exists():
        print('KTAP version 1\n1..0 # SKIP no netdevsim')
        sys.exit(4)
    cases = [refuse_before_reserve, channel_shrink, nid_bounds, moved_while_reserving]
    if sys.argv[1:]:
        cases = [c for c in cases if c.__name__ in sys.argv[1:]]
    ksft_run(cases)
    ksft_exit()


if __name__ == '__main__':
    main()
