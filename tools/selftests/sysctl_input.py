#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Bad input to the providers' sysctls through /proc/sys: garbage,
negatives, overflow, values out of range or inconsistent with the others,
a value split over two writes, a write at an offset. Each is refused with
an error and changes nothing; good values are taken.

usage: sysctl_input.py       (as root on a hugepool kernel)
"""

import errno
import os
import sys
from pathlib import Path

HP_TOP = Path(__file__).resolve().parents[2]
HP_KSRC = Path(os.environ.get('HP_KSRC', HP_TOP / 'build' / 'linux'))
sys.path.insert(0, str(HP_KSRC / 'tools/testing/selftests/net'))

# pylint: disable=wrong-import-position
from lib.py import ksft_run, ksft_exit, ksft_eq, ksft_pr, KsftFailEx  # noqa: E402

CORE = Path('/proc/sys/net/core')
KNOBS = ['mp_default', 'mp_huge_blocks', 'mp_huge_max_blocks', 'mp_cap_pages',
         'mp_cap_device_pages', 'mp_huge_limit_mb', 'pp_policy_default']


def read(name):
    return (CORE / name).read_text().strip()


def snapshot():
    return {k: read(k) for k in KNOBS}


def write(name, data, offset=0):
    """Write @data at @offset in one write(); returns 0 or the errno."""
    fd = os.open(CORE / name, os.O_WRONLY)
    try:
        if offset:
            os.lseek(fd, offset, os.SEEK_SET)
        os.write(fd, data.encode())
        return 0
    except OSError as e:
        return e.errno
    finally:
        os.close(fd)


def refused(name, data, offset=0, why=''):
    before = snapshot()
    err = write(name, data, offset)
    ksft_pr(f'{name} <- {data!r}{f" at {offset}" if offset else ""}: '
            f'{errno.errorcode.get(err, "accepted")}')
    if not err:
        raise KsftFailEx(f'{name}: {data!r} accepted ({why})')
    ksft_eq(snapshot(), before, f'{name}: {data!r} changed nothing')


def restore(saved):
    # the order keeps every step valid: the maximum before the reservation
    for k in ('mp_huge_max_blocks', 'mp_huge_blocks', 'mp_cap_pages',
              'mp_cap_device_pages', 'mp_huge_limit_mb', 'pp_policy_default',
              'mp_default'):
        write(k, saved[k])


def garbage() -> None:
    """Not a number, or a name nobody knows."""
    for k in KNOBS[1:6]:
        for bad in ('abc', '12abc', '1 2', '0x', '', '\n'):
            if bad.strip() == '' and k == 'mp_cap_device_pages':
                continue        # an empty write leaves a number as it is
            refused(k, bad, why='garbage')
    for bad in ('hugee', 'huge cap', 'none\0huge', 'x' * 40):
        refused('mp_default', bad, why='no such provider')
    refused('pp_policy_default', 'no-such-policy', why='no such policy')


def numbers() -> None:
    """Negatives, overflow, out of range, inconsistent with the others."""
    for k in KNOBS[1:6]:
        for bad in ('-1', '4294967296', '99999999999999999999'):
            refused(k, bad, why='not a u32')
    refused('mp_huge_max_blocks', '0', why='no huge page at all')
    refused('mp_huge_max_blocks', '513', why='past 1 GiB')
    refused('mp_huge_blocks', str(int(read('mp_huge_max_blocks')) + 1),
            why='more than the maximum')
    refused('mp_cap_pages', '63', why='below one refill')
    refused('mp_cap_pages', str((1 << 24) + 1), why='past the largest cap')
    refused('mp_cap_device_pages', '10', why='a budget below one refill')
    ram_mb = int(Path('/proc/meminfo').read_text().split()[1]) // 1024
    refused('mp_huge_limit_mb', str(ram_mb * 2), why='past the memory')


def partial_writes() -> None:
    """A value split over two writes, and a write at an offset."""
    saved = snapshot()
    fd = os.open(CORE / 'mp_huge_max_blocks', os.O_WRONLY)
    try:
        os.write(fd, b'9')
        try:
            os.write(fd, b'6')
            second = 0
        except OSError as e:
            second = e.errno
    finally:
        os.close(fd)
    ksft_pr(f'"9" then "6" in one open file: {read("mp_huge_max_blocks")}, '
            f'second write {errno.errorcode.get(second, "accepted")}')
    ksft_eq(second, errno.EINVAL, 'the second half is refused')
    ksft_eq(read('mp_huge_max_blocks'), '9', 'no 96: the first write alone')
    restore(saved)
    for k, v in (('mp_default', 'huge'), ('mp_huge_blocks', '2'),
                 ('pp_policy_default', 'lifo'), ('mp_huge_limit_mb', '100')):
        refused(k, v, offset=2, why='a write at an offset')
    ksft_eq(snapshot(), saved, 'all as before')


def good_values() -> None:
    """Good values are taken, and read back."""
    saved = snapshot()
    try:
        for k, v in (('mp_huge_max_blocks', '8'), ('mp_huge_blocks', '2'),
                     ('mp_cap_pages', '256'), ('mp_cap_device_pages', '0'),
                     ('mp_default', 'cap'), ('mp_default', 'none'),
                     ('pp_policy_default', 'percpu')):
            ksft_eq(write(k, v + '\n'), 0, f'{k} <- {v}')
            ksft_eq(read(k), v, f'{k} reads {v}')
    finally:
        restore(saved)
    ksft_eq(snapshot(), saved, 'restored')


def main() -> None:
    if os.geteuid():
        print('KTAP version 1\n1..0 # SKIP needs root')
        sys.exit(4)
    ksft_run([garbage, numbers, partial_writes, good_values])
    ksft_exit()


if __name__ == '__main__':
    main()
