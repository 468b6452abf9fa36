#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Memory provider bindings over netdev netlink, with traffic.

Every binding operation is driven with the YNL Python library (what
tools/net/ynl/cli.py uses, on the netdev spec as it is) and with
build/tools/hugepool (the C tool on YNL's C library):

 - netdevsim has queue management ops: a binding is active at once (the
   queue is restarted), a page taken by pp_hold comes from it, traffic
   between two linked netdevsim devices goes on across the restart, and
   a restart that fails (fail_function on the provider's init) leaves
   every queue as it was;
 - veth has none: the binding is pending until XDP attach creates the
   pools, then active; live changes under iperf3 traffic (a cap lowered
   while a stopped receiver holds pages; the budget policy's budget, then
   a trim) show in the counters; unbinding under traffic and deleting the
   device with bindings leave nothing behind;
 - notifications reach a listener on the mgmt group;
 - a dump of 64 bindings spans several messages;
 - every refusal carries its errno and an extack naming the attribute,
   and changes nothing; without CAP_NET_ADMIN only get and dump work;
 - a receiver that stalls and resumes makes pages come back in bursts
   that a budget of one page parks: trims are asked for per huge page
   given back, not per park, they do give huge pages back, and once every
   page is home only the huge page holding the kept page stays.

Waits are for their condition (traffic through the device, sockets full
or read, the iperf3 server listening), each bounded by wall-clock time.

usage: mp_netlink.py [long]   (as root, in the guest of scripts/vm.sh; long:
                              make check-long's repetitions too)
       HP_CASES=case,... mp_netlink.py: only those cases
"""

import contextlib
import ctypes
import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HP_TOP = Path(__file__).resolve().parents[2]
HP_BUILD = Path(os.environ.get('HP_BUILD', HP_TOP / 'build'))
HP_KSRC = Path(os.environ.get('HP_KSRC', HP_BUILD / 'linux'))
sys.path.insert(0, str(HP_KSRC / 'tools/testing/selftests/net'))

# pylint: disable=wrong-import-position
from lib.py import (ksft_run, ksft_exit, ksft_eq, ksft_ge, ksft_lt,  # noqa: E402
                    ksft_true, ksft_in, ksft_pr, KsftFailEx,
                    NetdevFamily, NlError, cmd, defer, ip)


def ksft_le(a, b, comment=''):
    ksft_lt(a, b + 1, comment)

# YNL prints warnings (a pending binding's extack) as plain lines: make
# them KTAP diagnostics
sys.modules['net.ynl.lib.ynl'].print = \
    lambda *a, **kw: ksft_pr(' '.join(map(str, a)).replace('\n', '\n# '))

TOOL = HP_BUILD / 'tools' / 'hugepool'
XDP = HP_BUILD / 'tools' / 'xdp_pass.o'
PID = os.getpid()
NSA, NSB = f'hpa-nl-{PID}', f'hpb-nl-{PID}'
DEBUGFS = Path('/sys/kernel/debug/mp_huge/bindings')


def rxq(ids):
    return [{'id': i, 'type': 'rx'} for i in ids]


_LIBC = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def _setns(fd):
    if _LIBC.setns(fd, CLONE_NEWNET):
        raise OSError(ctypes.get_errno(), 'setns')


@contextlib.contextmanager
def in_netns(ns):
    """Sockets made inside belong to namespace @ns."""
    fd = os.open(f'/run/netns/{ns}', os.O_RDONLY)
    me = os.open('/proc/self/ns/net', os.O_RDONLY)
    try:
        _setns(fd)
        yield
    finally:
        _setns(me)
        os.close(fd)
        os.close(me)


def nl(ns=None):
    """A netdev family socket, in namespace @ns if given."""
    if not ns:
        return NetdevFamily()
    with in_netns(ns):
        return NetdevFamily()


def tool(args, ns=None, fail=True):
    prefix = f'ip netns exec {ns} ' if ns else ''
    return cmd(f'{prefix}{TOOL} {args}', fail=fail)


def expect_error(fn, err, text, attr=None):
    """@fn must fail with -@err, an extack saying @text and naming @attr."""
    try:
        fn()
    except NlError as e:
        ext = e.nl_msg.extack or {}
        ksft_pr(f'refused: {errno.errorcode.get(e.error, e.error)} {ext}')
        ksft_eq(e.error, err, f'errno for "{text}"')
        ksft_in(text, ext.get('msg', '') or str(ext.get('miss-type', '')),
                'extack message')
        if attr:
            ksft_eq(ext.get('bad-attr'), attr, 'extack names the attribute')
        return
    raise KsftFailEx(f'accepted, expected {errno.errorcode[err]}: {text}')


def bindings(f, ifindex=None):
    req = {'ifindex': ifindex} if ifindex else {}
    return {b['id']: b for b in f.mp_binding_get(req, dump=True)}


def config_of(bs):
    """What a refused request must not change: ids, queues, parameters."""
    out = {}
    for bid, b in bs.items():
        p = b.get('huge') or b.get('cap') or {}
        out[bid] = (b.get('ifindex'), str(b.get('queues')), b['type'],
                    p.get('max-blocks'), p.get('policy'), str(p.get('policy-params')),
                    p.get('cap'), p.get('cap-low'))
    return out


def queues(f, ifindex):
    return {q['id']: q for q in f.queue_get({'ifindex': ifindex}, dump=True)
            if q['type'] == 'rx'}


def stat(f, bid, key):
    b = f.mp_binding_get({'id': bid})
    return (b.get('huge') or b.get('cap'))[key]


def ifindex_of(dev, ns=None):
    return json.loads(ip(f'-j link show dev {dev}', ns=ns).stdout)[0]['ifindex']


def blocks_held():
    for line in DEBUGFS.read_text().splitlines():
        if line.startswith('total blocks='):
            return int(line.split('=')[1])
    raise KsftFailEx('no total in debugfs')


def wait(cond, secs, what):
    """Poll @cond until it holds, for @secs of wall clock at most (and
    once more at the end, so that a slow try cannot lose a late success)."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.2)
    if not cond():
        raise KsftFailEx(f'timed out after {secs} s waiting for {what}')


def proc_net(ns, name):
    """/proc/net/@name of namespace @ns, read without a fork (most of a
    second under TCG): a thread's /proc/thread-self/net is its namespace's."""
    with in_netns(ns):
        try:
            return Path(f'/proc/thread-self/net/{name}').read_text()
        except FileNotFoundError:
            return ''


RX_BYTES, TX_PACKETS = 0, 9


def rx_counter(ns, dev, field=RX_BYTES):
    """@dev's counter @field of /proc/net/dev in @ns: 0 received bytes,
    9 sent packets (netdevsim counts only what it sends)."""
    for line in proc_net(ns, 'dev').splitlines()[2:]:
        name, _, counters = line.partition(':')
        if name.strip() == dev:
            return int(counters.split()[field])
    raise KsftFailEx(f'no {dev} in {ns}')


def wait_rx(ns, dev, nbytes, secs=30):
    """Traffic flows: @nbytes more arrive on @dev."""
    start = rx_counter(ns, dev)
    wait(lambda: rx_counter(ns, dev) - start >= nbytes, secs,
         f'{nbytes} bytes more into {dev}')


TCP_ESTABLISHED, TCP_TIME_WAIT, TCP_LISTEN = 0x01, 0x06, 0x0a


def tcp_sockets(ns):
    """(state, local port, bytes queued to read) of each TCP socket of @ns"""
    out = []
    for name in ('tcp', 'tcp6'):
        for line in proc_net(ns, name).splitlines()[1:]:
            f = line.split()
            out.append((int(f[3], 16), int(f[1].rsplit(':', 1)[1], 16),
                        int(f[4].split(':')[1], 16)))
    return out


def listening(ns, port):
    return any(st == TCP_LISTEN and p == port for st, p, _ in tcp_sockets(ns))


def queued(ns):
    """What the sockets of @ns hold unread, in bytes."""
    return sum(q for _, _, q in tcp_sockets(ns))


def stalled(ns, nbytes, secs=10):
    """A stopped receiver's sockets are full: they hold @nbytes unread, or
    stopped growing for a second (the senders' windows closed). Returns
    what they hold; not full within @secs is left to the caller's checks."""
    last, since, end = -1, time.monotonic(), time.monotonic() + secs
    while time.monotonic() < end:
        q = queued(ns)
        if q >= nbytes or (q == last and q and time.monotonic() - since >= 1):
            break
        if q != last:
            last, since = q, time.monotonic()
        time.sleep(0.2)
    q = queued(ns)
    ksft_pr(f'{ns}: {q >> 10} KiB unread')
    return q


def tcp_settled(ns):
    """No TCP connection of @ns open or closing: what a closing one still
    queues holds pages."""
    return all(st in (TCP_LISTEN, TCP_TIME_WAIT) for st, _, _ in tcp_sockets(ns))


def flush_defer_lists():
    ncpu = os.cpu_count()
    for c in range(ncpu):
        cmd(f'taskset -c {c} ping -q -c 1 -W 1 127.0.0.1', fail=False)


def pages_home(f, bid, secs=60):
    """Wait until every page of binding bid is back. The last skbs of a
    connection can sit on an idle CPU's defer list (skb_attempt_defer_free())
    until that CPU receives something (README, Known issues), so each round
    flushes the lists first."""
    def home():
        flush_defer_lists()
        return stat(f, bid, 'pages-inflight') == 0
    try:
        wait(home, secs, 'pages home')
    except KsftFailEx:
        # where they are: still in a socket, or in a pool that lingers
        ksft_pr(f'{stat(f, bid, "pages-inflight")} pages of binding {bid} out')
        for ns in (NSA, NSB):
            ksft_pr(f'{ns}: ' + cmd('ss -tanm', ns=ns, fail=False).stdout)
        ksft_pr([p for p in f.page_pool_get({}, dump=True)
                 if p.get('mp-binding', {}).get('id') == bid])
        raise


# --- fixtures -------------------------------------------------------------

class Nsim:
    """Two netdevsim devices, 4 queues each, linked, in NSA and NSB."""
    def __init__(self):
        self.addrs = []
        for ns in (NSA, NSB):
            cmd(f'ip netns add {ns}')
            defer(cmd, f'ip netns del {ns}', fail=False)
        self.dev = []
        for i, ns in enumerate((NSA, NSB)):
            addr = 3000 + PID % 1000 * 2 + i
            Path('/sys/bus/netdevsim/new_device').write_text(f'{addr} 1 4')
            defer(Path('/sys/bus/netdevsim/del_device').write_text, f'{addr}')
            self.addrs.append(addr)
            d = Path(f'/sys/bus/netdevsim/devices/netdevsim{addr}/net')
            wait(lambda: d.exists() and any(d.iterdir()), 5, 'netdevsim')
            name = next(d.iterdir()).name
            ip(f'link set {name} netns {ns}')
            ip(f'addr add 10.97.0.{i + 1}/24 dev {name}', ns=ns)
            ip(f'link set {name} up', ns=ns)
            self.dev.append(name)
        self.ifindex = [ifindex_of(self.dev[0], NSA), ifindex_of(self.dev[1], NSB)]
        fds = [os.open(f'/run/netns/{ns}', os.O_RDONLY) for ns in (NSA, NSB)]
        try:
            Path('/sys/bus/netdevsim/link_device').write_text(
                f'{fds[0]}:{self.ifindex[0]} {fds[1]}:{self.ifindex[1]}')
        finally:
            for fd in fds:
                os.close(fd)
        self.hold = Path(f'/sys/kernel/debug/netdevsim/netdevsim{self.addrs[1]}'
                         '/ports/0/pp_hold')
        # the receiver's family socket: bindings are seen in their namespace
        self.f = nl(NSB)


class Veth:
    """veth va (NSA, 10.96.0.1) and vb (NSB, 10.96.0.2), @q queues each."""
    def __init__(self, q=4):
        for ns in (NSA, NSB):
            cmd(f'ip netns add {ns}')
            defer(self.delete, ns)
        ip(f'link add va numrxqueues {q} numtxqueues {q} netns {NSA} type veth '
           f'peer vb numrxqueues {q} numtxqueues {q} netns {NSB}')
        ip('addr add 10.96.0.1/24 dev va', ns=NSA)
        ip('addr add 10.96.0.2/24 dev vb', ns=NSB)
        ip('link set va up', ns=NSA)
        ip('link set vb up', ns=NSB)
        self.ifindex = ifindex_of('vb', NSB)
        self.f = nl(NSB)

    @staticmethod
    def delete(ns):
        cmd(f'ip netns pids {ns} | xargs -r kill -9', fail=False)
        if ns == NSB:
            cmd('ip link set dev vb xdpdrv off', ns=ns, fail=False)
        cmd(f'ip netns del {ns}', fail=False)
        flush_defer_lists()

    @staticmethod
    def steer(q):
        """Every CPU sends on va's tx queue @q (XPS), so vb receives
        everything, ICMP and every TCP stream, on rx queue @q."""
        cpus = (1 << os.cpu_count()) - 1
        cmd(f"sh -c 'echo {cpus:x} > /sys/class/net/va/queues/tx-{q}/xps_cpus'", ns=NSA)

    def xdp(self, on=True):
        if on:
            ip(f'link set dev vb xdpdrv obj {XDP} sec xdp', ns=NSB)
        else:
            ip('link set dev vb xdpdrv off', ns=NSB)

    def iperf(self, secs, streams=4):
        cmd('iperf3 -s -1 -D -B 10.96.0.2', ns=NSB)
        wait(lambda: listening(NSB, 5201), 10, 'the iperf3 server listening')
        return cmd(f'iperf3 -c 10.96.0.2 -t {secs} -P {streams} -J', ns=NSA,
                   background=True)

    @staticmethod
    def stop_traffic(proc):
        """End the iperf3 of @proc early, both ends killed: the receiver's
        sockets close, and what they held comes home."""
        for ns in (NSA, NSB):
            for pid in cmd(f'ip netns pids {ns}').stdout.split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
        proc.process(terminate=False, fail=False, timeout=30)

    @staticmethod
    def receiver(sig):
        """Stop or continue the receiver: what runs in its namespace. A
        process may exit between the listing and the signal (iperf3's
        server, done with its one test): that one needs no signal."""
        for pid in cmd(f'ip netns pids {NSB}').stdout.split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), getattr(signal, f'SIG{sig}'))

    @staticmethod
    def received(proc):
        proc.process(terminate=False, timeout=120)
        res = json.loads(proc.stdout)
        if 'error' in res:
            ksft_pr(f'iperf3: {res["error"]}')
        got = res['end'].get('sum_received', {}).get('bytes', 0)
        if not got:
            ksft_pr(f'iperf3 received nothing: {json.dumps(res["end"])[:600]}')
        return got


def set_defaults(**kv):
    for k, v in kv.items():
        path = Path(f'/proc/sys/net/core/{k}')
        old = path.read_text().strip()
        path.write_text(str(v))
        defer(path.write_text, old)


# --- the cases --------------------------------------------------------------

def nsim_bind_active() -> None:
    """netdevsim: active at once, pp_hold draws from the binding, traffic
    goes on across the restart; unbind restarts back."""
    n = Nsim()
    f = n.f
    sent = rx_counter(NSA, n.dev[0], TX_PACKETS)
    ping = cmd('ping -q -i 0.05 -c 200 10.97.0.2', ns=NSA, background=True)
    wait(lambda: rx_counter(NSA, n.dev[0], TX_PACKETS) >= sent + 5, 10,
         'the first echo requests')
    bid = f.mp_bind({'ifindex': n.ifindex[1], 'type': 'huge', 'queues': rxq([0, 1, 2, 3]),
                     'huge': {'blocks': 1, 'max-blocks': 2, 'policy': 'lifo'}})['id']
    ksft_true(ping.proc.poll() is None, 'the pings outlast the restart')
    ping.process(terminate=False, fail=False, timeout=60)
    ksft_pr(ping.stdout.strip().splitlines()[-2:])
    ksft_in(' 0% packet loss', ping.stdout, 'traffic went on across the restart')
    qs = queues(f, n.ifindex[1])
    for i in range(4):
        ksft_eq(qs[i].get('mp-binding', {}).get('id'), bid, f'queue {i} bound')
        ksft_true('pending' not in qs[i]['mp-binding'], f'queue {i} active at once')
    pools = [p for p in f.page_pool_get({}, dump=True)
             if p.get('ifindex') == n.ifindex[1] and 'detach-time' not in p]
    ksft_eq(sorted(p.get('mp-binding', {}).get('id') for p in pools), [bid] * 4,
            'every live pool of the device draws from the binding')
    n.hold.write_text('1')
    ksft_ge(stat(f, bid, 'pages-inflight'), 1, 'pp_hold took a page of the binding')
    n.hold.write_text('0')
    tool(f'unbind {bid}', ns=NSB)
    qs = queues(f, n.ifindex[1])
    ksft_true(all('mp-binding' not in q for q in qs.values()), 'unbound: no queue bound')
    ksft_true(bid not in bindings(f), 'the binding is gone from the dump')


def nsim_restart_fails() -> None:
    """A queue restart that fails leaves every queue as it was."""
    inject = Path('/sys/kernel/debug/fail_function')
    if not inject.exists():
        raise KsftFailEx('no fail_function in debugfs')
    n = Nsim()
    f = n.f
    keep = f.mp_bind({'ifindex': n.ifindex[1], 'type': 'cap', 'queues': rxq([3]),
                      'cap': {'cap': 256}})['id']
    before = queues(f, n.ifindex[1])
    conf = config_of(bindings(f))
    (inject / 'inject').write_text('mp_huge_pool_init')
    defer((inject / 'inject').write_text, '\n')
    (inject / 'mp_huge_pool_init' / 'retval').write_text(hex((1 << 64) - errno.ENOMEM))
    (inject / 'probability').write_text('100')
    (inject / 'times').write_text('-1')
    (inject / 'verbose').write_text('0')
    expect_error(lambda: f.mp_bind({'ifindex': n.ifindex[1], 'type': 'huge',
                                    'queues': rxq([0, 1, 2]), 'huge': {'blocks': 1}}),
                 errno.ENOMEM, 'restarting rx queue 0 failed')
    (inject / 'inject').write_text('\n')
    ksft_eq(queues(f, n.ifindex[1]), before, 'queues as they were')
    ksft_eq(config_of(bindings(f)), conf, 'bindings as they were')
    ksft_eq(stat(f, keep, 'cap'), 256, 'the other binding untouched')
    wait(lambda: blocks_held() == 0, 10, 'the refused binding\'s huge page back')


def veth_pending_then_active() -> None:
    """veth: pending until XDP attach makes pools, then active; the tool
    says so; traffic is served by the binding."""
    v = Veth()
    out = tool(f'bind vb 0-3 huge blocks 2 max 4 policy budget budget=256', ns=NSB)
    bid = int(out.stdout.split()[0])
    ksft_in('pending', out.stderr, 'the tool says the binding is pending')
    qs = queues(v.f, v.ifindex)
    ksft_true(all(qs[i]['mp-binding'].get('pending') for i in range(4)),
              'queue-get: pending before the pools exist')
    v.xdp()
    qs = queues(v.f, v.ifindex)
    ksft_true(all('pending' not in qs[i]['mp-binding'] for i in range(4)),
              'queue-get: active once XDP attach made the pools')
    got = Veth.received(v.iperf(4))
    ksft_ge(got, 1 << 20, 'TCP traffic arrived')
    ksft_ge(stat(v.f, bid, 'refills'), 1, 'the binding served refills')
    show = tool('show vb', ns=NSB).stdout
    ksft_in(f'binding {bid}', show, 'hugepool show lists it')


def cap_live_change() -> None:
    """Lowering a cap under traffic: the binding holds no more than the
    new cap once its pages come back, allocation is refused meanwhile
    (cap-hits), and nothing in flight is taken away.

    One queue, all the traffic steered to it: bound to four queues, a cap
    of 64 pages is one refill, and the first pool to refill after the
    receiver resumes keeps all 64 in its own cache and ring (page_pool
    recycles them without the provider) while the other queues' pools
    are refused for good: their TCP streams, iperf3's control connection
    among them, never finish (this case hung so, 2026-11-27). The
    operator's guide says how to size a cap for its queues."""
    v = Veth()
    v.steer(0)
    v.xdp()
    bid = v.f.mp_bind({'ifindex': v.ifindex, 'type': 'cap', 'queues': rxq([0]),
                       'cap': {'cap': 8192}})['id']
    v.xdp(False)        # new pools, drawing from the binding
    v.xdp()
    proc = v.iperf(10)
    wait_rx(NSB, 'vb', 4 << 20)
    # the receiver stops reading: its sockets hold the pages, more than
    # the new cap's worth (64 pages hold at most 256 KiB) once they are
    # full, which new pools must then be refused for
    Veth.receiver('STOP')
    stalled(NSB, 1 << 20)
    held = stat(v.f, bid, 'pages-held')
    hits = stat(v.f, bid, 'cap-hits')
    tool(f'set {bid} cap 64', ns=NSB)
    ksft_eq(stat(v.f, bid, 'cap'), 64, 'the cap is 64')
    ksft_ge(held, 65, 'the binding held more than the new cap')
    ksft_ge(stat(v.f, bid, 'pages-held'), 1, 'pages in flight were not taken away')
    # New pools must draw from the binding (old ones live off their own
    # ring): while the stalled sockets keep it above the cap, it refuses
    # them. Pings are answered by the kernel, not by the stopped receiver.
    v.xdp(False)
    v.xdp()
    cmd('ping -c 10 -i 0.1 -W 1 10.96.0.2', ns=NSA, fail=False)
    refused = stat(v.f, bid, 'cap-hits')
    ksft_ge(refused, hits + 1, 'refills refused above the new cap')
    # the receiver reads again: the pages it frees bring the binding
    # under the new cap and traffic resumes
    Veth.receiver('CONT')
    ksft_ge(Veth.received(proc), 1 << 20, 'traffic arrived')
    ksft_pr(f'held {held} pages when the cap went from 8192 to 64; '
            f'cap hits {hits} then, {refused} after pings to new pools, '
            f'{stat(v.f, bid, "cap-hits")} at the end, '
            f'peak {stat(v.f, bid, "pages-peak")}')
    v.xdp(False)        # every page comes home: held falls under the cap
    pages_home(v.f, bid)
    ksft_le(stat(v.f, bid, 'pages-held'), 64, 'held within the new cap once home')


def policy_live_change() -> None:
    """Changing the budget policy's budget under traffic: with budget 0
    an operator's trim keeps nothing free and gives every huge page back;
    before the change the store kept pages."""
    v = Veth()
    v.xdp()
    bid = v.f.mp_bind({'ifindex': v.ifindex, 'type': 'huge', 'queues': rxq(range(4)),
                       'huge': {'blocks': 4, 'max-blocks': 4, 'policy': 'budget',
                                'policy-params': {'budget': 2048}}})['id']
    v.xdp(False)
    v.xdp()
    ksft_ge(Veth.received(v.iperf(3)), 1 << 20, 'traffic arrived')
    v.xdp(False)        # the pools go: their pages come home, kept or parked
    pages_home(v.f, bid)
    b = v.f.mp_binding_get({'id': bid})['huge']
    kept = b['pages-free'] - b['pages-parked']
    ksft_pr(f'budget 2048: {kept} pages kept free, {b["pages-parked"]} parked, '
            f'{b["parks"]} parks of {b["releases"]} releases')
    ksft_ge(kept, 1, 'budget 2048: the store kept pages')
    v.xdp()
    proc = v.iperf(4)
    wait_rx(NSB, 'vb', 1 << 20)
    v.f.mp_binding_set({'id': bid, 'huge': {'policy-params': {'budget': 0}}})
    ksft_ge(Veth.received(proc), 1 << 20, 'traffic went on across the change')
    ksft_eq(v.f.mp_binding_get({'id': bid})['huge']['policy-params']['budget'], 0,
            'the budget reads 0')
    v.xdp(False)
    pages_home(v.f, bid)
    tool(f'set {bid} trim', ns=NSB)
    b = v.f.mp_binding_get({'id': bid})['huge']
    ksft_pr(f'budget 0 and a trim: {b["pages-free"] - b["pages-parked"]} kept, '
            f'{b["blocks"]} huge pages held, {b["blocks-returned"]} returned')
    ksft_eq(b['pages-free'] - b['pages-parked'], 0, 'budget 0: nothing kept')
    ksft_eq(b['blocks'], 0, 'every huge page went back')


def veth_unbind_and_delete() -> None:
    """Unbinding under traffic, then deleting the device with a binding:
    every page comes home, every huge page goes back."""
    v = Veth()
    v.xdp()
    a = v.f.mp_bind({'ifindex': v.ifindex, 'type': 'huge', 'queues': rxq([0, 1]),
                     'huge': {'blocks': 1}})['id']
    b = v.f.mp_bind({'ifindex': v.ifindex, 'type': 'huge', 'queues': rxq([2, 3]),
                     'huge': {'blocks': 1, 'policy': 'percpu'}})['id']
    v.xdp(False)
    v.xdp()
    proc = v.iperf(6)
    wait_rx(NSB, 'vb', 4 << 20)
    tool(f'unbind {a}', ns=NSB)
    ksft_true(proc.proc.poll() is None, 'unbound while the traffic runs')
    ksft_ge(Veth.received(proc), 1 << 20, 'traffic went on across the unbind')
    ksft_true(a not in bindings(v.f) or 'ifindex' not in bindings(v.f)[a],
              'unbound: no longer configuration')
    # the device goes with its connections closed (what a closing one
    # still holds is not what this case is about)
    with contextlib.suppress(KsftFailEx):
        wait(lambda: tcp_settled(NSA) and tcp_settled(NSB), 30, 'TCP settled')
    Veth.delete(NSA)
    Veth.delete(NSB)
    wait(lambda: blocks_held() == 0, 60, 'every huge page back')
    f0 = nl()
    ksft_true(a not in bindings(f0) and b not in bindings(f0),
              'both bindings gone once their pages came home')


def notifications() -> None:
    """A listener on mgmt hears bindings made, changed and unbound."""
    v = Veth(2)
    listener = nl(NSB)
    listener.ntf_subscribe('mgmt')
    bid = tool('bind vb 0 cap 128', ns=NSB).stdout.split()[0]
    tool(f'set {bid} cap 256', ns=NSB)
    tool(f'unbind {bid}', ns=NSB)

    def heard():
        listener.check_ntf()
        return len(listener.async_msg_queue) >= 3
    with contextlib.suppress(KsftFailEx):
        wait(heard, 10, 'three notifications')
    names = [m['name'] for m in listener.async_msg_queue]
    ksft_pr(f'heard: {names}')
    ksft_eq(names, ['mp-binding-add-ntf', 'mp-binding-change-ntf', 'mp-binding-del-ntf'],
            'add, change, del in order')
    ksft_eq(listener.async_msg_queue[1]['msg']['cap']['cap'], 256,
            'the change notification carries the new cap')


def dump_spans_messages() -> None:
    """64 bindings, one per queue: the dump lists them all, over several
    messages."""
    v = Veth(64)
    ids = [v.f.mp_bind({'ifindex': v.ifindex, 'type': 'huge', 'queues': rxq([i]),
                        'huge': {'blocks': 0, 'max-blocks': 1}})['id'] for i in range(64)]
    got = bindings(v.f, v.ifindex)
    ksft_eq(sorted(got), sorted(ids), 'the dump lists every binding')
    sys.path.insert(0, str(Path(__file__).parent))
    import nlfuzz      # pylint: disable=import-outside-toplevel
    with in_netns(NSB):
        # a reader with small buffers, as netlink sizes dumps by them
        g = nlfuzz.Genl(bufsize=4096)
    g.send(g.family, nlfuzz.CMD_MP_BINDING_GET, b'',
           nlfuzz.NLM_F_REQUEST | nlfuzz.NLM_F_DUMP)
    datagrams = msgs = 0
    done = False
    while not done:
        data = g.sock.recv(4096)
        datagrams += 1
        off = 0
        while off < len(data):
            length, mtype = nlfuzz.struct.unpack_from('=IH', data, off)
            off += (length + 3) & ~3
            done |= mtype == nlfuzz.NLMSG_DONE
            msgs += mtype != nlfuzz.NLMSG_DONE
    ksft_pr(f'{msgs} bindings in {datagrams} datagrams')
    ksft_eq(msgs, 64, 'one message per binding')
    ksft_ge(datagrams, 2, 'the dump went on over several datagrams')


def refusals() -> None:
    """Every refusal: the errno, an extack naming what is wrong, nothing
    changed."""
    v = Veth(2)
    f = v.f
    keep = f.mp_bind({'ifindex': v.ifindex, 'type': 'huge', 'queues': rxq([0]),
                      'huge': {'blocks': 0, 'max-blocks': 2}})['id']
    conf, held = config_of(bindings(f)), blocks_held()

    def bind(**kv):
        req = {'ifindex': v.ifindex, 'type': 'huge', 'queues': rxq([1])}
        req.update(kv)
        return lambda: f.mp_bind(req)

    expect_error(bind(ifindex=9999), errno.ENODEV, 'no such device', '.ifindex')
    expect_error(bind(queues=rxq([2])), errno.ERANGE, 'out of range', '.queues.id')
    expect_error(bind(queues=rxq([0])), errno.EBUSY, 'bound already', '.queues.id')
    expect_error(bind(queues=rxq([1, 1])), errno.EINVAL, 'listed twice', '.queues.id')
    expect_error(bind(queues=[{'id': 1, 'type': 'tx'}]), errno.EINVAL,
                 'only rx queues', '.queues.type')
    expect_error(bind(huge={'policy': 'nope'}), errno.ENOENT,
                 'unknown recycling policy', '.huge.policy')
    expect_error(bind(huge={'policy': 'lifo', 'policy-params': {'budget': 1}}),
                 errno.EINVAL, 'does not take parameter budget', '.huge.policy-params')
    expect_error(bind(huge={'policy': 'percpu', 'policy-params': {'magazine': 0}}),
                 errno.ERANGE, 'out of range', '.huge.policy-params.magazine')
    expect_error(bind(huge={'max-blocks': 600}), errno.ERANGE, 'out of range',
                 '.huge.max-blocks')
    expect_error(bind(huge={'blocks': 3, 'max-blocks': 2}), errno.EINVAL,
                 'blocks exceed max-blocks', '.huge.blocks')
    expect_error(bind(huge={'pages-free': 1}), errno.EINVAL,
                 'a counter, not a parameter', '.huge.pages-free')
    expect_error(bind(cap={'cap': 256}), errno.EINVAL,
                 'parameters of another provider', '.cap')
    expect_error(bind(type='cap', cap={'cap': 256, 'cap-low': 250}), errno.EINVAL,
                 'cap-low must be at most', '.cap.cap-low')
    expect_error(bind(type='cap', cap={'cap': 10}), errno.ERANGE, 'out of range',
                 '.cap.cap')
    expect_error(lambda: f.mp_bind({'ifindex': v.ifindex, 'type': 'huge'}),
                 errno.EINVAL, 'queues')
    expect_error(lambda: f.mp_binding_set({'id': 99999, 'huge': {'max-blocks': 1}}),
                 errno.ENOENT, 'no such binding', '.id')
    expect_error(lambda: f.mp_binding_set({'id': keep, 'huge': {'max-blocks': 3}}),
                 errno.EINVAL, 'raised up to 2', '.huge.max-blocks')
    expect_error(lambda: f.mp_binding_set({'id': keep, 'huge': {'policy': 'budget'}}),
                 errno.EINVAL, 'set when the binding is made', '.huge.policy')
    expect_error(lambda: f.mp_binding_set({'id': keep}), errno.EINVAL,
                 'nothing to change')
    expect_error(lambda: f.mp_unbind({'id': 99999}), errno.ENOENT, 'no such binding')
    # attributes of the wrong type: an ifindex of 8 bytes
    sys.path.insert(0, str(Path(__file__).parent))
    import nlfuzz      # pylint: disable=import-outside-toplevel
    with in_netns(NSB):
        g = nlfuzz.Genl()
    err, _ = g.request(nlfuzz.CMD_MP_BIND,
                       nlfuzz.nla(nlfuzz.A_IFINDEX,
                                   nlfuzz.struct.pack('=Q', v.ifindex)))
    ksft_eq(err, errno.EINVAL, 'an ifindex of the wrong size is refused')
    # the machine-wide limit
    set_defaults(mp_huge_limit_mb=4)
    expect_error(bind(huge={'blocks': 4, 'max-blocks': 4}), errno.ENOSPC,
                 'machine-wide limit', '.huge.blocks')
    # no CAP_NET_ADMIN: get and dump only
    nobody = ('setpriv --reuid=65534 --regid=65534 --clear-groups '
              f'/usr/bin/python3 {HP_KSRC}/tools/net/ynl/cli.py --no-schema '
              f'--spec {HP_KSRC}/Documentation/netlink/specs/netdev.yaml')
    r = cmd(f"{nobody} --do mp-bind --json '{{\"ifindex\": {v.ifindex}, \"type\": \"cap\", "
            f"\"queues\": [{{\"id\": 1, \"type\": \"rx\"}}]}}'", ns=NSB, fail=False)
    ksft_in('Operation not permitted', r.stdout + r.stderr, 'mp-bind needs CAP_NET_ADMIN')
    r = cmd(f"{nobody} --do mp-unbind --json '{{\"id\": {keep}}}'", ns=NSB, fail=False)
    ksft_in('Operation not permitted', r.stdout + r.stderr, 'mp-unbind needs CAP_NET_ADMIN')
    r = cmd(f"{nobody} --dump mp-binding-get", ns=NSB, fail=False)
    ksft_eq(r.ret, 0, 'mp-binding-get does not')
    ksft_in(f"'id': {keep}", r.stdout, 'and lists the binding')
    ksft_eq(config_of(bindings(f)), conf, 'nothing changed')
    ksft_eq(blocks_held(), held, 'no huge page reserved')


LONG = False        # mp_netlink.py long: make check-long's repetitions


def stalled_receiver_trims(policy='budget', params=None) -> None:
    """A receiver that stalls and resumes: pages pile up in its sockets
    (the binding grows), then come back in bursts that overflow the pool's
    ring and reach the provider, where a budget of one page parks nearly
    all of them. A trim is asked for only when a huge page is wholly
    parked, not at every park: each trim gives a huge page back, or
    nearly. Once every page is home, every huge page but those holding
    the one kept page has gone back.

    One queue takes all the traffic (XPS): the parking binding must see
    it, which hashing over four queues left to chance."""
    params = params if params is not None else {'budget': 1}
    v = Veth(4)
    v.steer(0)
    v.xdp()
    bid = v.f.mp_bind({'ifindex': v.ifindex, 'type': 'huge', 'queues': rxq([0]),
                       'huge': {'blocks': 1, 'max-blocks': 4, 'policy': policy,
                                'policy-params': params}})['id']
    v.xdp(False)        # new pools, drawing from the binding
    v.xdp()

    def now():
        return v.f.mp_binding_get({'id': bid})['huge']
    before = now()
    # Stall and resume until a burst overflowed the ring into the provider
    # after the binding grew: two rounds at least, more if the bursts have
    # not parked yet; long: seven. The traffic outlasts the rounds, which
    # a deadline bounds, and is ended with them.
    rounds, least, peak = 0, 7 if LONG else 2, before['blocks']
    start = rx_counter(NSB, 'vb')
    proc = v.iperf(120, 6)
    wait_rx(NSB, 'vb', 4 << 20)
    end = time.monotonic() + 90
    while True:
        rounds += 1
        Veth.receiver('STOP')
        held = stalled(NSB, 8 << 20, 5)
        peak = max(peak, now()['blocks'])
        Veth.receiver('CONT')
        # the receiver read what its sockets held: those pages came back
        with contextlib.suppress(KsftFailEx):
            wait(lambda: queued(NSB) <= held // 4, 10, 'the sockets read')
        b = now()
        if rounds >= least and b['parks'] > before['parks'] and peak >= 2:
            break
        if time.monotonic() > end:
            break
    Veth.stop_traffic(proc)
    got = rx_counter(NSB, 'vb') - start
    v.xdp(False)        # the pools go: every page comes home
    pages_home(v.f, bid)
    # the trims the last parks asked for run a tenth of a second later
    kept = b = None

    def settled():
        nonlocal b, kept
        b = now()
        kept = b['pages-free'] - b['pages-parked']
        return b['blocks'] <= max(kept, 0)
    with contextlib.suppress(KsftFailEx):
        wait(settled, 10, 'every huge page without a kept page back')
    d = {k: b[k] - before[k] for k in ('trims', 'parks', 'releases', 'refills',
                                        'blocks-returned')}
    ksft_pr(f'{policy} {params}, {rounds} stalls, {got >> 20} MiB: {d["refills"]} refills, '
            f'{d["releases"]} releases, {d["parks"]} parks, {d["trims"]} trims, '
            f'{d["blocks-returned"]} huge pages returned; huge pages held: '
            f'{before["blocks"]} before, {peak} at the peak, {b["blocks"]} once home '
            f'with {kept} pages kept')
    ksft_ge(d['parks'], 1, 'pages were parked: the provider was on the path')
    ksft_ge(peak, 2, 'the stalled sockets made the binding grow')
    ksft_ge(d['trims'], 1, 'parks asked for trims')
    ksft_ge(d['blocks-returned'], 1, 'the trims gave huge pages back')
    ksft_le(b['blocks'], kept, 'once home, only huge pages holding a kept page stay')
    if policy == 'budget' and params.get('budget', 16) < peak:
        ksft_lt(b['blocks'], peak, 'the huge pages held went down from the peak')
    # A trim that finds its huge page taken again (a refill between the
    # park and the trim) gives nothing back: two of those are allowed. A
    # trim per park would pass that only with few parks: there must be
    # more parks than that allowance.
    ksft_ge(d['parks'], d['blocks-returned'] + 3, 'more parks than huge pages given back')
    ksft_le(d['trims'], d['blocks-returned'] + 2, 'a trim per huge page given back, not per park')


def stalled_receiver_trims_percpu() -> None:
    """The same with the per-CPU policy and a one-magazine depot
    (make check-long: the trim is the provider's, whatever policy parks)."""
    stalled_receiver_trims('percpu', {'depot': 1})


CASE_SECS = 300


def bounded(case):
    """@case, failing with a traceback of where it is if it still runs
    after CASE_SECS (CI saw this test sit silently for its whole 20-minute
    limit: a hung case now costs five minutes and says where it hung)."""
    def run():
        def expired(signum, frame):
            raise TimeoutError(f'{case.__name__} still running after {CASE_SECS} s')
        old = signal.signal(signal.SIGALRM, expired)
        signal.alarm(CASE_SECS)
        start = time.monotonic()
        try:
            case()
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
            ksft_pr(f'{case.__name__}: {time.monotonic() - start:.0f} s')
    run.__name__ = case.__name__
    return run


def main() -> None:
    global LONG     # pylint: disable=global-statement
    LONG = sys.argv[1:] == ['long']
    if os.geteuid():
        print('KTAP version 1\n1..0 # SKIP needs root')
        sys.exit(4)
    if not TOOL.exists():
        raise SystemExit(f'no {TOOL}: run scripts/build-tools.sh')
    if Path('/proc/sys/net/core/mp_default').read_text().strip() != 'none':
        raise SystemExit('net.core.mp_default is not none: bindings would not be ours')
    cases = [nsim_bind_active, nsim_restart_fails, veth_pending_then_active,
             cap_live_change, policy_live_change, veth_unbind_and_delete,
             notifications, dump_spans_messages, refusals, stalled_receiver_trims]
    if LONG:
        cases.append(stalled_receiver_trims_percpu)
    # HP_CASES=a,b: only those (a developer's shortcut)
    if os.environ.get('HP_CASES'):
        cases = [c for c in cases if c.__name__ in os.environ['HP_CASES'].split(',')]
    ksft_run([bounded(c) for c in cases])
    ksft_exit()


if __name__ == '__main__':
    main()
