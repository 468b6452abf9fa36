#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fuzz the memory provider binding operations of the netdev family.

Thousands of randomly built generic netlink requests (random commands
among the binding operations and their neighbours, random attribute types,
lengths, nesting and values, with now and then a well-formed part so that
the handlers' deeper checks are reached) are sent as root. Any binding a
request happens to make is remembered and unbound at the end. Then the
bindings must be exactly those there were before, with the same
parameters, and the kernel log is left to the harness's splat scanner.

usage: nlfuzz.py [-n REQUESTS] [-s SEED] [--ifindex N]... [--keep ID]...
prints KTAP; exit 0 pass, 1 fail, 4 skip
"""
import argparse
import errno
import os
import random
import socket
import struct
import sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLA_F_NESTED = 1 << 15

# netdev family (Documentation/netlink/specs/netdev.yaml)
CMD_MP_BINDING_GET, CMD_MP_BIND, CMD_MP_BINDING_SET, CMD_MP_UNBIND = 32, 33, 34, 35
A_ID, A_IFINDEX, A_TYPE, A_QUEUES, A_DEFAULT_GEN, A_HUGE, A_CAP, A_TRIM = range(1, 9)
A_QUEUE_ID, A_QUEUE_TYPE = 1, 3
HUGE_BLOCKS, HUGE_MAX_BLOCKS, HUGE_POLICY, HUGE_POLICY_PARAMS, HUGE_NID = range(1, 6)
CAP_CAP, CAP_CAP_LOW, CAP_DEVICE_BUDGET = 1, 2, 3


def nla(atype, payload):
    n = 4 + len(payload)
    return struct.pack('=HH', n, atype) + payload + b'\0' * ((4 - n % 4) % 4)


def u32(v):
    return struct.pack('=I', v & 0xffffffff)


class Genl:
    def __init__(self, bufsize=1 << 16):
        self.bufsize = bufsize
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.sock.bind((0, 0))
        self.sock.settimeout(10)
        self.seq = 0
        self.family = self.resolve('netdev')

    def send(self, family, cmd, attrs, flags=NLM_F_REQUEST | NLM_F_ACK):
        self.seq += 1
        body = struct.pack('=BBH', cmd, 1, 0) + attrs
        msg = struct.pack('=IHHII', 16 + len(body), family, flags, self.seq, 0) + body
        self.sock.send(msg)
        return self.seq

    def recv_all(self, seq):
        """Replies to @seq: (error, [payloads])."""
        out = []
        while True:
            data = self.sock.recv(self.bufsize)
            off = 0
            while off < len(data):
                length, mtype, _, mseq, _ = struct.unpack_from('=IHHII', data, off)
                if length < 16:
                    raise RuntimeError('short netlink message')
                payload = data[off + 16:off + length]
                off += (length + 3) & ~3
                if mseq != seq:
                    continue
                if mtype == NLMSG_ERROR:
                    return -struct.unpack_from('=i', payload)[0], out
                if mtype == NLMSG_DONE:
                    return 0, out
                out.append(payload[4:])

    def resolve(self, name):
        seq = self.send(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                        nla(CTRL_ATTR_FAMILY_NAME, name.encode() + b'\0'))
        err, msgs = self.recv_all(seq)
        if err or not msgs:
            raise RuntimeError(f'no {name} family: {err}')
        for atype, val in attrs_of(msgs[0]):
            if atype == CTRL_ATTR_FAMILY_ID:
                return struct.unpack('=H', val[:2])[0]
        raise RuntimeError('no family id')

    def request(self, cmd, attrs, dump=False):
        flags = NLM_F_REQUEST | (NLM_F_DUMP if dump else NLM_F_ACK)
        return self.recv_all(self.send(self.family, cmd, attrs, flags))


def attrs_of(buf):
    off = 0
    while off + 4 <= len(buf):
        n, atype = struct.unpack_from('=HH', buf, off)
        if n < 4:
            break
        yield atype & ~NLA_F_NESTED, buf[off + 4:off + n]
        off += (n + 3) & ~3


def bindings(g):
    """{id: message bytes without volatile counters}: what must not change."""
    err, msgs = g.request(CMD_MP_BINDING_GET, b'', dump=True)
    if err:
        raise RuntimeError(f'dump failed: {err}')
    out = {}
    for m in msgs:
        keep = {}
        for atype, val in attrs_of(m):
            if atype in (A_HUGE, A_CAP):
                # parameters only; counters move with traffic
                val = sorted((t, v) for t, v in attrs_of(val)
                             if t in (HUGE_MAX_BLOCKS, HUGE_POLICY, HUGE_POLICY_PARAMS,
                                      HUGE_NID) or (atype == A_CAP and t in
                                                    (CAP_CAP, CAP_CAP_LOW)))
            keep[atype] = val
        out[struct.unpack('=I', keep[A_ID][:4])[0]] = keep
    return out


class Fuzzer:
    def __init__(self, rnd, ifindexes, keep):
        self.rnd = rnd
        self.ifindexes = ifindexes
        self.keep = keep

    def value(self):
        r = self.rnd.random()
        if r < 0.3:
            return u32(self.rnd.choice([0, 1, 2, 3, 7, 15, 16, 63, 64, 511, 512, 513,
                                        1 << 16, 1 << 24, (1 << 24) + 1, 0x7fffffff,
                                        0xffffffff]))
        if r < 0.45:
            return struct.pack('=Q', self.rnd.getrandbits(64))
        if r < 0.6:
            return self.rnd.choice([b'lifo\0', b'percpu\0', b'budget\0', b'nope\0',
                                    b'x' * 40 + b'\0', b'lifo', b''])
        return bytes(self.rnd.getrandbits(8) for _ in range(self.rnd.randrange(0, 40)))

    def attrs(self, depth, maxtype):
        out = b''
        for _ in range(self.rnd.randrange(0, 7)):
            atype = self.rnd.randrange(0, maxtype + 1)
            if depth < 3 and self.rnd.random() < 0.3:
                out += nla(atype | NLA_F_NESTED, self.attrs(depth + 1, maxtype))
            else:
                out += nla(atype, self.value())
        return out

    def queue(self):
        q = b''
        if self.rnd.random() < 0.95:
            q += nla(A_QUEUE_ID, u32(self.rnd.choice([0, 1, 2, 3, 0, 1, 2, 3, 63, 1000])))
        if self.rnd.random() < 0.95:
            q += nla(A_QUEUE_TYPE, u32(self.rnd.choice([0, 0, 0, 0, 0, 1, 2])))
        return nla(A_QUEUES | NLA_F_NESTED, q)

    def provider(self):
        if self.rnd.random() < 0.5:
            inner = b''
            if self.rnd.random() < 0.5:
                inner += nla(HUGE_BLOCKS, struct.pack('=Q', self.rnd.choice([0, 1, 2, 513])))
            if self.rnd.random() < 0.5:
                inner += nla(HUGE_MAX_BLOCKS, struct.pack('=Q', self.rnd.choice([0, 1, 4, 600])))
            if self.rnd.random() < 0.5:
                inner += nla(HUGE_POLICY, self.rnd.choice([b'lifo\0', b'percpu\0', b'budget\0',
                                                           b'nope\0']))
            if self.rnd.random() < 0.3:
                inner += nla(HUGE_POLICY_PARAMS | NLA_F_NESTED,
                             nla(self.rnd.randrange(0, 5), self.value()))
            if self.rnd.random() < 0.2:
                inner += self.attrs(1, 25)
            return nla(A_HUGE | NLA_F_NESTED, inner)
        inner = b''
        if self.rnd.random() < 0.7:
            inner += nla(CAP_CAP, struct.pack('=Q', self.rnd.choice([10, 64, 256, 1 << 25])))
        if self.rnd.random() < 0.3:
            inner += nla(CAP_CAP_LOW, struct.pack('=Q', self.rnd.choice([0, 1, 200, 1000])))
        if self.rnd.random() < 0.2:
            inner += self.attrs(1, 20)
        return nla(A_CAP | NLA_F_NESTED, inner)

    def request(self):
        cmd = self.rnd.choice([CMD_MP_BIND] * 4 + [CMD_MP_BINDING_SET] * 2 +
                              [CMD_MP_UNBIND, CMD_MP_BINDING_GET, 31, 36, 39])
        if self.rnd.random() < 0.15:
            return cmd, self.attrs(0, 12)
        out = b''
        if self.rnd.random() < 0.8:
            out += nla(A_IFINDEX, u32(self.rnd.choice(self.ifindexes + [0, 9999])))
        if self.rnd.random() < 0.8:
            out += nla(A_TYPE, u32(self.rnd.choice([0, 1, 1, 2, 2, 3])))
        for _ in range(self.rnd.choice([0, 1, 1, 1, 2, 3])):
            out += self.queue()
        if self.rnd.random() < 0.8:
            out += self.provider()
        if self.rnd.random() < 0.3:
            bid = self.rnd.choice([0, 1, 2, 3, 100, 0xffffffff])
            out += nla(A_ID, u32(0xfffffffe if bid in self.keep else bid))
        if self.rnd.random() < 0.1:
            out += nla(A_TRIM, b'')
        if self.rnd.random() < 0.1:
            out += self.attrs(0, 12)
        return cmd, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-n', type=int, default=5000)
    ap.add_argument('-s', '--seed', type=int, default=1)
    ap.add_argument('--ifindex', type=int, action='append', default=[])
    ap.add_argument('--keep', type=int, action='append', default=[],
                    help='a binding the fuzzer must not name, checked unchanged')
    args = ap.parse_args()

    print('KTAP version 1')
    print('1..4')
    if os.geteuid():
        print('ok 1 nlfuzz # SKIP needs root')
        sys.exit(4)
    g = Genl()
    before = bindings(g)
    print(f'# {len(before)} bindings before, seed {args.seed}, {args.n} requests')
    fz = Fuzzer(random.Random(args.seed), args.ifindex or [1], set(args.keep))
    made, errs = [], {}
    for _ in range(args.n):
        cmd, attrs = fz.request()
        err, msgs = g.request(cmd, attrs)
        errs[err] = errs.get(err, 0) + 1
        if cmd == CMD_MP_BIND and not err:
            for m in msgs:
                for atype, val in attrs_of(m):
                    if atype == A_ID:
                        made.append(struct.unpack('=I', val[:4])[0])
    print('# answers: ' + ', '.join(f'{errno.errorcode.get(e, e) if e else "ok"} {n}'
                                      for e, n in sorted(errs.items())))
    print(f'ok 1 {args.n} random requests answered')

    # whatever the fuzzer happened to bind goes again
    failed = 0
    for bid in made:
        err, _ = g.request(CMD_MP_UNBIND, nla(A_ID, u32(bid)))
        if err not in (0, errno.ENOENT):
            failed += 1
    print(f'{"not ok" if failed else "ok"} 2 the {len(made)} bindings it made unbound')

    after = bindings(g)
    gone_or_draining = {i for i in after if i not in before and A_IFINDEX not in after[i]}
    extra = set(after) - set(before) - gone_or_draining
    print(f'# bindings after: {len(after)} ({len(gone_or_draining)} unbound and draining)')
    print(f'{"not ok" if extra else "ok"} 3 no binding left over from the fuzzing')
    changed = [i for i in before if after.get(i) != before[i]]
    for i in changed:
        print(f'# binding {i} changed: {before[i]} -> {after.get(i)}')
    print(f'{"not ok" if changed else "ok"} 4 bindings from before unchanged')
    sys.exit(1 if failed or extra or changed else 0)


if __name__ == '__main__':
    main()
