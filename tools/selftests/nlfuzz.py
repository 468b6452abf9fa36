#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fuzz the memory provider binding operations of the netdev family.

Randomly built generic netlink requests (random commands among the binding
operations and their neighbours, attributes mostly of the command's own
kind so that the handlers' deeper checks are reached, random types,
lengths, nesting and values now and then) are sent as root. Bindings a
request makes are remembered, named by later requests, and unbound at the
end.

The operator's bindings (--keep, made before the fuzzing) are named by id
too: a change or an unbind that names one carries one defect the kernel
must refuse (the other provider's parameters, a counter as a parameter, a
parameter fixed at bind, a value out of range, an attribute the command
does not take) among otherwise random, well-formed parts, so every such
request must be refused, and must change nothing: each kept binding's
whole state (provider, device, queues, policy, parameters) is compared
before and after. Then the bindings must be exactly those there were
before. The kernel log is left to the harness's splat scanner.

The seed changes from run to run and is printed; HP_SEED=N (or -s N)
makes a run again.

A kept hugepage binding's max-blocks must be what it was made with: a
raise up to that is a change it may take, a raise past it a defect.

usage: nlfuzz.py [-n REQUESTS] [-s SEED] [--ifindex N]... --keep ID [--keep ID]...
prints KTAP; exit 0 pass, 1 fail, 4 skip
"""
import argparse
import errno
import os
import random
import socket
import struct
import sys
import time
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
NLM_F_ACK_TLVS = 0x200
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

    def recv_ack(self, seq):
        """Replies to @seq: (error, {extended ack TLV type: value},
        [payloads]). The TLVs come with NETLINK_EXT_ACK and, past the
        echoed request, NETLINK_CAP_ACK on the socket."""
        out = []
        while True:
            data = self.sock.recv(self.bufsize)
            off = 0
            while off < len(data):
                length, mtype, flags, mseq, _ = struct.unpack_from('=IHHII', data, off)
                if length < 16:
                    raise RuntimeError('short netlink message')
                payload = data[off + 16:off + length]
                off += (length + 3) & ~3
                if mseq != seq:
                    continue
                if mtype == NLMSG_ERROR:
                    ack = {}
                    if flags & NLM_F_ACK_TLVS:
                        ack = dict(attrs_of(payload[4 + 16:]))
                    return -struct.unpack_from('=i', payload)[0], ack, out
                if mtype == NLMSG_DONE:
                    return 0, {}, out
                out.append(payload[4:])

    def recv_all(self, seq):
        """Replies to @seq: (error, [payloads])."""
        err, _, out = self.recv_ack(seq)
        return err, out

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


def uint(val):
    """An NLA_UINT (4 or 8 bytes) or a u32."""
    return struct.unpack('=Q', val)[0] if len(val) == 8 else struct.unpack('=I', val[:4])[0]


HUGE_PARAMS = {HUGE_MAX_BLOCKS: 'max-blocks', HUGE_POLICY: 'policy',
               HUGE_POLICY_PARAMS: 'policy-params', HUGE_NID: 'nid'}
CAP_PARAMS = {CAP_CAP: 'cap', CAP_CAP_LOW: 'cap-low', CAP_DEVICE_BUDGET: 'device-budget'}
POLICY_PARAMS = {1: 'budget', 2: 'magazine', 3: 'depot'}


def state_of(msg):
    """A binding's configuration from its message: provider, device,
    queues, policy and parameters; counters, which move with traffic,
    left out."""
    st = {'queues': []}
    for atype, val in attrs_of(msg):
        if atype == A_QUEUES:
            q = dict(attrs_of(val))
            st['queues'].append((uint(q.get(A_QUEUE_ID, b'\xff' * 4)),
                                 uint(q.get(A_QUEUE_TYPE, b'\xff' * 4))))
        elif atype in (A_HUGE, A_CAP):
            names = HUGE_PARAMS if atype == A_HUGE else CAP_PARAMS
            st['provider'] = 'huge' if atype == A_HUGE else 'cap'
            for t, v in attrs_of(val):
                if t == HUGE_POLICY and atype == A_HUGE:
                    st['policy'] = v.rstrip(b'\0').decode(errors='replace')
                elif t == HUGE_POLICY_PARAMS and atype == A_HUGE:
                    st['policy-params'] = {POLICY_PARAMS.get(pt, pt): uint(pv)
                                           for pt, pv in attrs_of(v)}
                elif t in names:
                    st[names[t]] = uint(v)
        elif atype in (A_ID, A_IFINDEX, A_TYPE, A_DEFAULT_GEN):
            st[{A_ID: 'id', A_IFINDEX: 'ifindex', A_TYPE: 'type',
                A_DEFAULT_GEN: 'default-gen'}[atype]] = uint(val)
        else:
            st[f'attr {atype}'] = val.hex()
    st['queues'].sort()
    return st


def bindings(g):
    """{id: state_of()}: what a refused request must not change."""
    err, msgs = g.request(CMD_MP_BINDING_GET, b'', dump=True)
    if err:
        raise RuntimeError(f'dump failed: {err}')
    return {st['id']: st for st in map(state_of, msgs)}


class Fuzzer:
    """Requests from @seed. @kept: {id: state} of the bindings that every
    change naming them must leave as they are.

    The requests are the seed's whatever the ids the kernel hands out: a
    kept or made binding is named by its place in a list, the ids named
    blindly are ones no binding has, and the defects come from a random
    stream of their own, so that adding one does not shift the requests
    that follow."""
    def __init__(self, seed, ifindexes, kept):
        self.seed = seed
        self.sent = 0
        self.rnd = random.Random(seed)
        self.drnd = None
        self.ifindexes = ifindexes
        self.kept = kept
        self.made = []

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

    def huge(self, noise=0.2, r=None):
        r = r or self.rnd
        inner = b''
        if r.random() < 0.5:
            inner += nla(HUGE_BLOCKS, struct.pack('=Q', r.choice([0, 1, 2, 513])))
        if r.random() < 0.5:
            inner += nla(HUGE_MAX_BLOCKS, struct.pack('=Q', r.choice([0, 1, 2, 4, 600])))
        if r.random() < 0.5:
            inner += nla(HUGE_POLICY, r.choice([b'lifo\0', b'percpu\0', b'budget\0', b'nope\0']))
        if r.random() < 0.4:
            inner += nla(HUGE_POLICY_PARAMS | NLA_F_NESTED,
                         nla(r.randrange(0, 5), self.value() if r is self.rnd else
                             u32(r.choice([0, 1, 8, 64, 1 << 20]))))
        if r.random() < noise:
            inner += self.attrs(1, 25)
        return nla(A_HUGE | NLA_F_NESTED, inner)

    def cap(self, noise=0.2, r=None):
        r = r or self.rnd
        inner = b''
        if r.random() < 0.7:
            inner += nla(CAP_CAP, struct.pack('=Q', r.choice([10, 64, 256, 1 << 25])))
        if r.random() < 0.3:
            inner += nla(CAP_CAP_LOW, struct.pack('=Q', r.choice([0, 1, 200, 1000])))
        if r.random() < 0.2:
            inner += nla(CAP_DEVICE_BUDGET, struct.pack('=Q', r.choice([0, 10, 64])))
        if r.random() < noise:
            inner += self.attrs(1, 20)
        return nla(A_CAP | NLA_F_NESTED, inner)

    def provider(self):
        return self.huge() if self.rnd.random() < 0.5 else self.cap()

    def some_id(self):
        r = self.rnd.random()
        if r < 0.35 and self.kept:
            return self.rnd.choice(sorted(self.kept))
        if r < 0.7 and self.made:
            return self.rnd.choice(self.made)
        return self.rnd.choice([0, 1 << 24, 0x7fffffff, 0xffffffff])

    def bind(self):
        out = []
        if self.rnd.random() < 0.9:
            out.append(nla(A_IFINDEX, u32(self.rnd.choice(self.ifindexes + [0, 9999]))))
        if self.rnd.random() < 0.9:
            out.append(nla(A_TYPE, u32(self.rnd.choice([0, 1, 1, 2, 2, 3]))))
        for _ in range(self.rnd.choice([0, 1, 1, 1, 2, 3])):
            out.append(self.queue())
        if self.rnd.random() < 0.8:
            out.append(self.provider())
        return out

    def change(self):
        out = [nla(A_ID, u32(self.some_id()))]
        if self.rnd.random() < 0.8:
            out.append(self.provider())
        if self.rnd.random() < 0.2:
            out.append(nla(A_TRIM, b''))
        return out

    def request(self):
        """(command, attributes, id of a kept binding it names or None)"""
        self.sent += 1
        self.drnd = random.Random(f'{self.seed}/{self.sent}')
        cmd = self.rnd.choice([CMD_MP_BIND] * 4 + [CMD_MP_BINDING_SET] * 4 +
                              [CMD_MP_UNBIND] * 2 + [CMD_MP_BINDING_GET] * 2 + [31, 36, 39])
        if self.rnd.random() < 0.1:
            out = [self.attrs(0, 12)]
        elif cmd == CMD_MP_BIND:
            out = self.bind()
        elif cmd == CMD_MP_BINDING_SET:
            out = self.change()
        elif cmd in (CMD_MP_UNBIND, CMD_MP_BINDING_GET):
            out = [nla(A_ID, u32(self.some_id()))] if self.rnd.random() < 0.9 else []
        else:
            out = self.bind() + self.change()
        if self.rnd.random() < 0.05:
            out.append(nla(A_ID, u32(self.some_id())))
        if self.rnd.random() < 0.05:
            out.append(self.attrs(0, 12))
        self.rnd.shuffle(out)
        attrs = b''.join(out)
        kept = named(attrs, self.kept)
        if kept is not None and cmd in (CMD_MP_BINDING_SET, CMD_MP_UNBIND):
            attrs += self.defect(cmd, self.kept[kept])
        return cmd, attrs, kept

    def defect(self, cmd, st):
        """One attribute that makes a change or an unbind of the binding
        @st refused whatever else the request holds. Appended last: of
        two attributes of a type the kernel reads the last."""
        r = self.drnd
        if cmd == CMD_MP_UNBIND:
            # mp-unbind takes the id alone: its policy ends there
            return nla(r.choice([A_IFINDEX, A_TYPE, A_DEFAULT_GEN]), u32(r.choice([0, 1, 3])))
        if st.get('provider') == 'cap':
            return r.choice([
                lambda: self.huge(noise=0, r=r),                # another provider's
                lambda: nla(A_TRIM, b''),                       # trim is for huge
                lambda: self.cap_with(nla(r.randrange(4, 12), struct.pack('=Q', 1))),
                lambda: self.cap_with(nla(CAP_CAP, struct.pack('=Q', 512)) +
                                      nla(CAP_CAP_LOW, struct.pack('=Q', 500))),
                lambda: self.cap_with(nla(CAP_DEVICE_BUDGET, struct.pack('=Q', 10))),
                lambda: self.cap_with(nla(CAP_CAP, struct.pack('=Q', 10))),
            ])()
        takes = {'lifo': (), 'budget': (1,), 'percpu': (2, 3)}.get(st.get('policy'), ())
        foreign = [t for t in POLICY_PARAMS if t not in takes]
        return r.choice([
            lambda: self.cap(noise=0, r=r),                     # another provider's
            lambda: self.huge_with(nla(r.randrange(6, 21), struct.pack('=Q', 1))),
            lambda: self.huge_with(r.choice([
                nla(HUGE_BLOCKS, struct.pack('=Q', 1)), nla(HUGE_POLICY, b'lifo\0'),
                nla(HUGE_NID, u32(0))])),                       # fixed at bind
            lambda: self.huge_with(nla(HUGE_MAX_BLOCKS, struct.pack(
                '=Q', r.randrange(st.get('max-blocks', 512) + 1, 601)))),
            lambda: self.huge_with(nla(HUGE_POLICY_PARAMS | NLA_F_NESTED,
                                       nla(r.choice(foreign), u32(8)))),
        ])()

    def valid_params(self):
        """Parameters a change could take by themselves (or not)."""
        r = self.drnd
        out = b''
        if r.random() < 0.5:
            out += nla(HUGE_MAX_BLOCKS, struct.pack('=Q', r.choice([1, 2])))
        if r.random() < 0.5:
            out += nla(HUGE_POLICY_PARAMS | NLA_F_NESTED,
                       nla(r.choice([1, 2, 3]), u32(r.choice([0, 8, 64]))))
        return out

    def huge_with(self, bad):
        return nla(A_HUGE | NLA_F_NESTED, self.valid_params() + bad)

    def cap_with(self, bad):
        r = self.drnd
        ok = nla(CAP_CAP, struct.pack('=Q', r.choice([64, 256, 4096]))) \
            if r.random() < 0.5 else b''
        return nla(A_CAP | NLA_F_NESTED, ok + bad)


def named(attrs, kept):
    """The kept binding the request's (last) id attribute names, if any."""
    bid = None
    for atype, val in attrs_of(attrs):
        if atype == A_ID and len(val) >= 4:
            bid = struct.unpack('=I', val[:4])[0]
    return bid if bid in kept else None


def show(st):
    return ', '.join(f'{k} {v}' for k, v in sorted(st.items()) if k != 'id') if st else 'gone'


def result(ok, n, what):
    print(f'{"ok" if ok else "not ok"} {n} {what}')
    return ok


def fuzz(g, fz, n):
    """Send @n requests; returns (errno counts, kept-naming changes by
    kernel answer, ids of kept bindings named)."""
    errs, kept_answers, kept_named = {}, {}, set()
    for _ in range(n):
        cmd, attrs, kept = fz.request()
        err, msgs = g.request(cmd, attrs)
        errs[err] = errs.get(err, 0) + 1
        if kept is not None:
            kept_named.add(kept)
            if cmd in (CMD_MP_BINDING_SET, CMD_MP_UNBIND):
                kept_answers[err] = kept_answers.get(err, 0) + 1
                if not err:
                    print(f'# cmd {cmd} naming kept binding {kept} accepted: {attrs.hex()}')
        if cmd == CMD_MP_BIND and not err:
            for m in msgs:
                for atype, val in attrs_of(m):
                    if atype == A_ID:
                        fz.made.append(struct.unpack('=I', val[:4])[0])
    return errs, kept_answers, kept_named


def seed_of(arg):
    if arg is not None:
        return arg
    if os.environ.get('HP_SEED'):
        return int(os.environ['HP_SEED'])
    return time.time_ns() % (1 << 32)


def answers(counts):
    return ', '.join(f'{errno.errorcode.get(e, e) if e else "ok"} {n}'
                     for e, n in sorted(counts.items()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-n', type=int, default=1000)
    ap.add_argument('-s', '--seed', type=int, default=None,
                    help='default: HP_SEED, else from the clock')
    ap.add_argument('--ifindex', type=int, action='append', default=[])
    ap.add_argument('--keep', type=int, action='append', default=[],
                    help='a binding whose changes must all be refused, checked unchanged')
    args = ap.parse_args()

    print('KTAP version 1')
    if os.geteuid():
        print('1..0 # SKIP needs root')
        sys.exit(4)
    print('1..5')
    seed = seed_of(args.seed)
    g = Genl()
    before = bindings(g)
    print(f'# seed {seed} (HP_SEED={seed} runs the same requests), {args.n} requests, '
          f'{len(before)} bindings before')
    for bid in args.keep:
        print(f'# kept binding {bid}: {show(before.get(bid))}')
    kept = {bid: before[bid] for bid in args.keep if bid in before}
    fz = Fuzzer(seed, args.ifindex or [1], kept)
    start = time.monotonic()
    errs, kept_answers, kept_named = fuzz(g, fz, args.n)
    print(f'# answers: {answers(errs)} ({time.monotonic() - start:.0f} s)')
    ok = result(True, 1, f'{args.n} random requests answered')

    print(f'# changes naming a kept binding: {answers(kept_answers) or "none"}')
    ok &= result(len(kept) == len(args.keep) and kept_named == set(kept) and
                 sum(kept_answers.values()) > 0 and not kept_answers.get(0),
                 2, 'every change naming a kept binding, each with a defect, refused')

    # whatever the fuzzer happened to bind goes again
    failed = 0
    for bid in fz.made:
        err, _ = g.request(CMD_MP_UNBIND, nla(A_ID, u32(bid)))
        if err not in (0, errno.ENOENT):
            failed += 1
    ok &= result(not failed, 3, f'the {len(fz.made)} bindings it made unbound')

    after = bindings(g)
    gone_or_draining = {i for i in after if i not in before and 'ifindex' not in after[i]}
    extra = set(after) - set(before) - gone_or_draining
    print(f'# bindings after: {len(after)} ({len(gone_or_draining)} unbound and draining)')
    ok &= result(not extra, 4, 'no binding left over from the fuzzing')
    changed = [i for i in before if after.get(i) != before[i]]
    for i in changed:
        print(f'# binding {i} was: {show(before[i])}')
        print(f'# binding {i} is:  {show(after.get(i))}')
    ok &= result(not changed and len(kept) == len(args.keep) > 0, 5,
                 f'the kept bindings {sorted(args.keep)} and every other from before unchanged')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
