#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Sample what a device's page pools hold while traffic runs.

usage: pp_sample.py IFNAME SECONDS [INTERVAL]
Every INTERVAL seconds (default 0.25) reads, in the current network
namespace, the page-pool-get dump (netlink) for IFNAME and the provider
bindings of IFNAME in debugfs, and at the end prints one line:
  peak-inflight-mem=<bytes> peak-mp-cap-held=<pages> peak-mp-huge-inflight=<pages> samples=<n>
"""
import os
import socket
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
KSRC = os.environ.get('HP_KSRC', os.path.join(TOP, 'build', 'linux'))
sys.path.insert(0, os.path.join(KSRC, 'tools', 'net', 'ynl'))
# "ip netns exec" mounts a sysfs of its own, without debugfs under it:
# reach debugfs through init's root
DEBUGFS = '/proc/1/root/sys/kernel/debug'
from lib import YnlFamily  # noqa: E402


def debugfs_sum(path, dev, key):
    total = 0
    try:
        with open(path) as f:
            for line in f:
                kv = dict(x.split('=', 1) for x in line.split() if '=' in x)
                if kv.get('dev') == dev:
                    total += int(kv.get(key, 0))
    except OSError:
        pass
    return total


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    dev, secs = argv[1], float(argv[2])
    interval = float(argv[3]) if len(argv) > 3 else 0.25
    ifindex = socket.if_nametoindex(dev)
    ynl = YnlFamily(os.path.join(KSRC, 'Documentation', 'netlink', 'specs',
                                 'netdev.yaml'))
    peak_mem = peak_cap = peak_huge = n = 0
    end = time.monotonic() + secs
    while time.monotonic() < end:
        mem = sum(p.get('inflight-mem', 0)
                  for p in ynl.dump('page-pool-get', {})
                  if p.get('ifindex') == ifindex)
        cap = debugfs_sum(DEBUGFS + '/mp_cap/bindings', dev, 'pages-held')
        huge = debugfs_sum(DEBUGFS + '/mp_huge/bindings', dev,
                           'pages-inflight')
        peak_mem, peak_cap = max(peak_mem, mem), max(peak_cap, cap)
        peak_huge = max(peak_huge, huge)
        n += 1
        time.sleep(interval)
    print(f'peak-inflight-mem={peak_mem} peak-mp-cap-held={peak_cap} '
          f'peak-mp-huge-inflight={peak_huge} samples={n}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
