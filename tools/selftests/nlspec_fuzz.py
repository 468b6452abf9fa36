#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fuzz the memory provider binding operations from the YNL spec's grammar.

nlfuzz.py sends random bytes shaped like requests and rarely builds a nest
the kernel parses to its end. This fuzzer builds every request from the
netdev family's spec (Documentation/netlink/specs/netdev.yaml): each
operation's request attributes, nested as the attribute sets say, with
values at the edges of the spec's checks (0, 1, min, max, max + 1, 2^31,
2^32 - 1, 2^32 for a uint, a negative number as u32), policy names good
and bad, queue ids at and past the device's count, and now and then an
attribute missing, duplicated, or of the nested set but not of a request
(a counter). Between requests it changes the devices as an operator
would: channel count (ethtool -L on netdevsim), link down and up, a move
to another namespace and back, a netdevsim device deleted and made anew.

Checks, on every request: the kernel answers; a refused request carries
an extended ack (a message, the attribute at fault, or the missing one);
a refused request changes no binding (every live binding's provider,
device, queues and parameters, dumped before and after). At the end the
bindings it made are unbound and every binding from before is as it was;
the caller checks that every huge page and page pool went back.

The seed changes from run to run and is printed; -s N (HP_SEED) makes a
run again, devices' ifindexes aside.

usage: nlspec_fuzz.py --spec YAML -n REQUESTS [-s SEED] --dev NAME...
                      [--nsim ID:NAME] [--other-ns NAME] [--ns NAME]
prints KTAP; exit 0 pass, 1 fail
"""
import argparse
import os
import random
import socket
import struct
import subprocess
import sys
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# pylint: disable=wrong-import-position
from nlfuzz import Genl, attrs_of, nla, seed_of, uint  # noqa: E402

SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS, NLMSGERR_ATTR_MISS_TYPE = 1, 2, 5
NLA_F_NESTED = 1 << 15

OPS = ('mp-bind', 'mp-binding-set', 'mp-unbind', 'mp-binding-get')
POLICIES = ('lifo', 'percpu', 'budget')
# what a live binding of each provider may change (the spec's docs)
SETTABLE = {'huge': ('max-blocks', 'policy-params'), 'cap': ('cap', 'cap-low', 'device-budget')}


class Spec:
    """Attribute sets and operations of a YNL spec, numbered as YNL does."""

    def __init__(self, path):
        with open(path, encoding='utf-8') as f:
            y = yaml.safe_load(f)
        self.enums = {}         # name: {entry: value}
        for d in y.get('definitions', []):
            if d.get('type') == 'enum':
                start = d.get('value-start', 0)
                self.enums[d['name']] = {
                    (e if isinstance(e, str) else e['name']): start + i
                    for i, e in enumerate(d['entries'])}
        self.sets = {}
        raw = {s['name']: s for s in y['attribute-sets']}
        for name, s in raw.items():
            self.sets[name] = self._numbered(s, raw)
        self.ops = {}
        value = 0
        for op in y['operations']['list']:
            value = op.get('value', value + 1)
            self.ops[op['name']] = (value, op)

    @staticmethod
    def _numbered(s, raw):
        """{attr name: (number, attr)}; a subset takes its numbers and
        types from the set it is a subset of."""
        out, value = {}, 0
        if s.get('subset-of'):
            full = Spec._numbered(raw[s['subset-of']], raw)
            return {a['name']: full[a['name']] for a in s['attributes']}
        for a in s['attributes']:
            value = a.get('value', value + 1)
            out[a['name']] = (value, a)
        return out

    def request_attrs(self, op):
        _, o = self.ops[op]
        return o['attribute-set'], o['do']['request']['attributes']


class Genlx(Genl):
    """Genl with extended acks: each answer is (errno, extack, payloads)."""

    def __init__(self):
        super().__init__()
        self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)

    def ask(self, cmd, attrs, dump=False):
        flags = 1 | (0x300 if dump else 4)
        return self.recv_ack(self.send(self.family, cmd, attrs, flags))


def live_state(g, cmd_get, spec):
    """{id: (ifindex, type, queues, parameters)} of the bindings that have
    a device: what a refused request must not change. Counters and
    bindings draining (no device) move by themselves and are left out."""
    err, _, msgs = g.ask(cmd_get, b'', dump=True)
    if err:
        raise RuntimeError(f'mp-binding-get dump failed: {err}')
    mb = spec.sets['mp-binding']
    params = {}
    for nest in ('mp-huge', 'mp-cap', 'pp-policy-params'):
        params[nest] = {num: name for name, (num, a) in spec.sets[nest].items()
                        if a.get('checks') or a['type'] in ('string', 'nest') or
                        nest == 'pp-policy-params' or name == 'nid'}
    out = {}
    for m in msgs:
        st = {'queues': []}
        for t, v in attrs_of(m):
            if t == mb['queues'][0]:
                st['queues'].append(tuple(sorted((qt, uint(qv)) for qt, qv in attrs_of(v))))
            elif t in (mb['huge'][0], mb['cap'][0]):
                nest = 'mp-huge' if t == mb['huge'][0] else 'mp-cap'
                for pt, pv in attrs_of(v):
                    if pt not in params[nest]:
                        continue
                    if params[nest][pt] == 'policy-params':
                        st['policy-params'] = sorted((k, uint(x)) for k, x in attrs_of(pv))
                    elif params[nest][pt] == 'policy':
                        st['policy'] = pv.rstrip(b'\0')
                    else:
                        st[params[nest][pt]] = uint(pv)
            elif t in (mb['id'][0], mb['ifindex'][0], mb['type'][0], mb['default-gen'][0]):
                st[t] = uint(v)
        st['queues'].sort()
        if mb['ifindex'][0] in st:
            out[st[mb['id'][0]]] = st
    return out


class Grammar:
    """Requests of the spec's grammar from one random stream."""

    def __init__(self, spec, rnd):
        self.spec = spec
        self.r = rnd
        self.ifindexes = []     # the devices', refreshed after device changes
        self.queues = 4
        self.ids = []           # bindings the fuzzing made
        self.kind = {}          # their providers: id -> 'huge' or 'cap'
        self.last_kind = None   # the provider of the last bind request
        self.protected = set()  # bindings from before: never named

    def number(self, a, valid):
        """A value for an integer attribute: in the spec's range if
        @valid, else at or past its edges."""
        checks = a.get('checks', {})
        lo = checks.get('min', 0)
        hi = checks.get('max', 0xffffffff)
        inside = [lo, hi, lo + 1 if lo < hi else lo, self.r.randint(lo, hi),
                  min(hi, 64), min(hi, 2)]
        edges = [0, 1, lo - 1 if lo else 0, hi + 1, 1 << 31, (1 << 32) - 1,
                 (1 << 32) - 16]
        if a['type'] == 'uint':
            edges += [1 << 32, (1 << 64) - 1]
        return self.r.choice(inside if valid else edges + inside[:2])

    def value(self, name, a, valid, depth):
        t = a['type']
        if name == 'ifindex':
            v = self.r.choice(self.ifindexes) if valid or self.r.random() < 0.5 \
                else self.r.choice([1, 0, 99999, 0x7fffffff])
            return struct.pack('=I', v)
        if name == 'id':
            if self.ids and self.r.random() < 0.8:
                return struct.pack('=I', self.r.choice(self.ids))
            v = self.number(a, valid)
            while v in self.protected:
                v = self.r.choice([0, 0x7fffffff, 0xffffffff, v + 1000])
            return struct.pack('=I', v & 0xffffffff)
        if a.get('enum') in self.spec.enums:
            vals = list(self.spec.enums[a['enum']].values())
            v = self.r.choice(vals) if valid else self.r.choice(vals + [max(vals) + 1, 0xffffffff])
            return struct.pack('=I', v)
        if t in ('u32', 's32'):
            return struct.pack('=I', self.number(a, valid) & 0xffffffff)
        if t == 'uint':
            v = self.number(a, valid)
            return struct.pack('=Q', v) if v >= 1 << 32 or self.r.random() < 0.3 \
                else struct.pack('=I', v)
        if t == 'string':
            if valid:
                return self.r.choice(POLICIES).encode() + b'\0'
            return self.r.choice([b'nope\0', b'\0', b'x' * 15 + b'\0', b'x' * 16 + b'\0',
                                  b'lifo', b'../lifo\0', b'lifo\0x\0'])
        if t == 'flag':
            return b'' if valid or self.r.random() < 0.5 else b'\x01\0\0\0'
        if t == 'nest':
            return self.nest(a['nested-attributes'], valid, depth + 1)
        return bytes(self.r.getrandbits(8) for _ in range(self.r.randrange(0, 9)))

    def attr(self, aset, name, valid, depth):
        num, a = self.spec.sets[aset][name]
        if name == 'queues':
            return self.queue(num, valid)
        if a['type'] == 'nest':
            num |= NLA_F_NESTED
        return nla(num, self.value(name, a, valid, depth))

    def queue(self, num, valid):
        q = self.spec.sets['queue-id']
        n = self.queues
        qid = self.r.randrange(0, n) if valid else self.r.choice([n, n + 1, 63, 0xffffffff, 0])
        qtype = 0 if valid or self.r.random() < 0.5 else self.r.choice([1, 2, 0xffffffff])
        parts = [nla(q['id'][0], struct.pack('=I', qid)),
                 nla(q['type'][0], struct.pack('=I', qtype))]
        if not valid and self.r.random() < 0.3:
            parts = parts[:self.r.randrange(0, 2)]
        return nla(num | NLA_F_NESTED, b''.join(parts))

    def nest(self, aset, valid, depth, only=None):
        """A nest of @aset: its parameters (those with checks, strings and
        nests; @only those), and when not @valid also a counter or a
        duplicate."""
        names = list(self.spec.sets[aset])
        params = [n for n in names
                  if self.spec.sets[aset][n][1].get('checks') or
                  self.spec.sets[aset][n][1]['type'] in ('string', 'nest') or
                  aset == 'pp-policy-params' or n == 'nid']
        if only:
            params = [n for n in params if n in only]
        chosen = [n for n in params if self.r.random() < (0.7 if valid else 0.5)]
        if not valid and depth < 4:
            if self.r.random() < 0.4:
                chosen.append(self.r.choice(names))          # a counter, say
            if chosen and self.r.random() < 0.3:
                chosen.append(self.r.choice(chosen))         # duplicated
        return b''.join(self.attr(aset, n, valid and self.r.random() < 0.9, depth)
                        for n in chosen)

    def request(self, op):
        """(attributes, valid): a request of @op; @valid says whether it
        was built to be accepted (it may still be refused: a queue bound
        already, a change the binding cannot take)."""
        aset, names = self.spec.request_attrs(op)
        valid = self.r.random() < 0.5
        chosen = list(names)
        nest = None
        if op == 'mp-bind':
            # one provider's nest, queues one to three times
            nest = self.r.choice(['huge', 'cap'])
            chosen = [n for n in chosen if n not in ('huge', 'cap')] + [nest]
            chosen += ['queues'] * self.r.randrange(0, 3)
        elif op == 'mp-binding-set':
            if valid and self.ids:
                # a binding it made, its own provider's changeable
                # parameters (and trim, for huge pages)
                bid = self.r.choice(self.ids)
                kind = self.kind[bid]
                num, a = self.spec.sets[aset][kind]
                out = [nla(self.spec.sets[aset]['id'][0], struct.pack('=I', bid)),
                       nla(num | NLA_F_NESTED, self.nest(a['nested-attributes'], True, 1,
                                                         SETTABLE[kind]))]
                if kind == 'huge' and self.r.random() < 0.3:
                    out.append(self.attr(aset, 'trim', True, 0))
                return b''.join(out), valid
            chosen = ['id'] + [n for n in ('huge', 'cap', 'trim') if self.r.random() < 0.5]
        out = []
        for n in chosen:
            if not valid and self.r.random() < 0.15:
                continue                                    # missing
            out.append(self.attr(aset, n, valid, 0))
            if not valid and self.r.random() < 0.1:
                out.append(self.attr(aset, n, valid, 0))    # duplicated
        if op == 'mp-bind' and valid:
            # the type that goes with the provider's nest
            num, a = self.spec.sets[aset]['type']
            out = [x for x in out if struct.unpack_from('=H', x, 2)[0] != num]
            out.append(nla(num, struct.pack('=I', self.spec.enums[a['enum']][nest])))
        self.r.shuffle(out)
        self.last_kind = nest
        return b''.join(out), valid


class Devices:
    """What an operator does to the devices between requests."""

    def __init__(self, rnd, devs, nsim, ns, other):
        self.r = rnd
        self.devs = devs        # names in this namespace
        self.nsim = nsim        # (id, name) of a netdevsim device, or None
        self.ns = ns
        self.other = other
        self.done = {}

    @staticmethod
    def sh(*cmd):
        return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              check=False).returncode == 0

    def ifindexes(self):
        out = []
        for d in self.devs:
            try:
                with open(f'/sys/class/net/{d}/ifindex', encoding='ascii') as f:
                    out.append(int(f.read()))
            except OSError:
                pass
        return out

    def queues(self):
        if not self.nsim:
            return 4
        try:
            return len([q for q in os.listdir(f'/sys/class/net/{self.nsim[1]}/queues')
                        if q.startswith('rx-')])
        except OSError:
            return 4

    def change(self):
        what = self.r.choice(['channels', 'updown', 'netns', 'recreate'] if self.nsim
                             else ['updown', 'netns'])
        dev = self.nsim[1] if self.nsim and what in ('channels', 'recreate') \
            else self.r.choice(self.devs)
        ok = True
        if what == 'channels':
            ok = self.sh('ethtool', '-L', dev, 'combined', str(self.r.randint(1, 4)))
        elif what == 'updown':
            ok = self.sh('ip', 'link', 'set', dev, 'down') and \
                self.sh('ip', 'link', 'set', dev, 'up')
        elif what == 'netns' and self.other:
            ok = self.sh('ip', 'link', 'set', dev, 'netns', self.other) and \
                self.sh('ip', '-n', self.other, 'link', 'set', dev, 'netns', self.ns) and \
                self.sh('ip', 'link', 'set', dev, 'up')
        elif what == 'recreate':
            nid = self.nsim[0]
            ok = self.sh('sh', '-c', f'echo {nid} > /sys/bus/netdevsim/del_device') and \
                self.sh('sh', '-c', f'echo "{nid} 1 4" > /sys/bus/netdevsim/new_device')
            new = []
            # netdevsim makes it in the namespace that asks: named as before
            for _ in range(50 if ok else 0):
                try:
                    new = os.listdir(f'/sys/bus/netdevsim/devices/netdevsim{nid}/net')
                except OSError:
                    new = []
                if new:
                    break
                time.sleep(0.1)
            ok = ok and bool(new) and \
                (new[0] == dev or self.sh('ip', 'link', 'set', new[0], 'name', dev)) and \
                self.sh('ip', 'link', 'set', dev, 'up')
        self.done[what] = self.done.get(what, 0) + 1
        return what, ok


def show_ack(ack):
    if NLMSGERR_ATTR_MSG in ack:
        return ack[NLMSGERR_ATTR_MSG].rstrip(b'\0').decode(errors='replace')
    if NLMSGERR_ATTR_MISS_TYPE in ack:
        return f'missing attribute {uint(ack[NLMSGERR_ATTR_MISS_TYPE])}'
    if NLMSGERR_ATTR_OFFS in ack:
        return f'bad attribute at offset {uint(ack[NLMSGERR_ATTR_OFFS])}'
    return ''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--spec', required=True)
    ap.add_argument('-n', type=int, default=1000)
    ap.add_argument('-s', '--seed', type=int, default=None)
    ap.add_argument('--dev', action='append', default=[])
    ap.add_argument('--nsim', default=None, help='ID:NAME of a netdevsim device')
    ap.add_argument('--ns', default=None, help='the namespace this runs in')
    ap.add_argument('--other-ns', default=None, help='a namespace to move devices to')
    ap.add_argument('--every', type=int, default=40, help='requests between device changes')
    args = ap.parse_args()

    print('KTAP version 1')
    print('1..5')
    seed = seed_of(args.seed)
    rnd = random.Random(seed)
    spec = Spec(args.spec)
    g = Genlx()
    cmd = {op: spec.ops[op][0] for op in OPS}
    nsim = tuple(args.nsim.split(':', 1)) if args.nsim else None
    devs = Devices(rnd, args.dev, nsim, args.ns, args.other_ns)
    gram = Grammar(spec, rnd)
    gram.ifindexes = devs.ifindexes()
    gram.queues = devs.queues()
    before = live_state(g, cmd['mp-binding-get'], spec)
    gram.protected = set(before)
    print(f'# seed {seed} (HP_SEED={seed} runs the same requests), {args.n} requests, '
          f'{len(before)} bindings before, devices {args.dev} {gram.ifindexes}')

    answered, no_ack, changed, accepted, refused, made = 0, [], [], {}, {}, []
    reasons = {}
    state = before
    start = time.monotonic()
    for i in range(args.n):
        if i and i % args.every == 0:
            what, ok = devs.change()
            if not ok:
                print(f'# device change {what} failed')
            gram.ifindexes = devs.ifindexes() or [1]
            gram.queues = devs.queues()
            state = live_state(g, cmd['mp-binding-get'], spec)
            # bindings that went with a device are named no more
            gram.ids = [bid for bid in gram.ids if bid in state]
        op = rnd.choice(['mp-bind'] * 4 + ['mp-binding-set'] * 3 + ['mp-unbind'] * 2 +
                        ['mp-binding-get'])
        attrs, valid = gram.request(op)
        try:
            err, ack, msgs = g.ask(cmd[op], attrs)
        except (socket.timeout, OSError) as e:
            print(f'# request {i} ({op}) not answered: {e}')
            break
        answered += 1
        key = (op, 'valid' if valid else 'edges')
        if err == 0:
            accepted[key] = accepted.get(key, 0) + 1
            if op == 'mp-bind':
                for m in msgs:
                    for t, v in attrs_of(m):
                        if t == spec.sets['mp-binding']['id'][0]:
                            gram.ids.append(uint(v))
                            made.append(uint(v))
                            gram.kind[uint(v)] = gram.last_kind
            if op == 'mp-unbind':
                for t, v in attrs_of(attrs):
                    if t == spec.sets['mp-binding']['id'][0] and uint(v) in gram.ids:
                        gram.ids.remove(uint(v))
            if op != 'mp-binding-get':
                state = live_state(g, cmd['mp-binding-get'], spec)
            continue
        refused[key] = refused.get(key, 0) + 1
        why = f'{op}: {show_ack(ack)}'
        reasons[why] = reasons.get(why, 0) + 1
        if not show_ack(ack):
            no_ack.append((i, op, err, attrs.hex()))
        now = live_state(g, cmd['mp-binding-get'], spec)
        if now != state:
            changed.append((i, op, err, show_ack(ack), attrs.hex(), state, now))
        state = now
    secs = time.monotonic() - start
    print(f'# {answered} answered in {secs:.0f} s; accepted {sorted(accepted.items())}; '
          f'refused {sorted(refused.items())}; device changes {sorted(devs.done.items())}')

    for why, n in sorted(reasons.items(), key=lambda x: -x[1])[:15]:
        print(f'#   {n:5} refused: {why}')
    ok = answered == args.n
    print(f'{"ok" if ok else "not ok"} 1 every request answered')
    good = sum(v for (op, _), v in accepted.items() if op != 'mp-binding-get')
    ok2 = good > 0 and sum(refused.values()) > 0
    print(f'{"ok" if ok2 else "not ok"} 2 requests of the grammar both accepted and refused')
    for i, op, err, hexa in no_ack[:10]:
        print(f'# request {i} {op} refused with errno {err} and no extended ack: {hexa}')
    ok3 = not no_ack
    print(f'{"ok" if ok3 else "not ok"} 3 every refusal says why (extended ack)'
          f'{"" if ok3 else f": {len(no_ack)} did not"}')
    for i, op, err, why, hexa, was, now in changed[:5]:
        print(f'# request {i} {op} refused (errno {err}: {why}) changed bindings: {hexa}')
        print(f'#   was {was}')
        print(f'#   now {now}')
    ok4 = not changed
    print(f'{"ok" if ok4 else "not ok"} 4 a refused request changes no binding')

    for bid in made:
        g.ask(cmd['mp-unbind'], nla(spec.sets['mp-binding']['id'][0], struct.pack('=I', bid)))
    after = live_state(g, cmd['mp-binding-get'], spec)
    left = {k: v for k, v in after.items() if k not in before}
    # a device made anew takes a new ifindex: bindings from before on it
    # went with the device
    lost = [k for k in before if k not in after]
    moved = [k for k in before if k in after and after[k] != before[k]]
    for k in moved:
        print(f'# binding {k} from before was {before[k]}, is {after[k]}')
    if lost:
        print(f'# bindings from before gone with their device: {lost}')
    ok5 = not left and not moved
    print(f'{"ok" if ok5 else "not ok"} 5 the {len(made)} bindings made unbound, '
          f'those from before as they were{"" if ok5 else f": {len(left)} left"}')
    sys.exit(0 if ok and ok2 and ok3 and ok4 and ok5 else 1)


if __name__ == '__main__':
    main()
