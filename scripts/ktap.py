#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Count the leaf results of a KTAP log (KUnit console output or a
selftest's output), using the kernel's own KUnit parser.

usage: ktap.py LOG [LOG...]
prints: "<passed> <failed> <skipped>" and one "# FAILED name" line per
failure; exit 0.
"""
import os
import re
import sys

KSRC = os.environ.get('HP_KSRC', os.path.join(os.path.dirname(__file__), '..',
                                              'build', 'linux'))
sys.path.insert(0, os.path.join(KSRC, 'tools', 'testing', 'kunit'))
import kunit_parser  # noqa: E402
from kunit_printer import Printer  # noqa: E402


def leaves(test, path=''):
    name = f'{path}.{test.name}' if path else test.name
    if not test.subtests:
        yield name, test.status
        return
    for sub in test.subtests:
        yield from leaves(sub, name)


def count(path):
    with open(path, errors='replace') as f:
        lines = f.read().splitlines()
    # selftest output may interleave other lines: keep KTAP ones only
    lines = [re.sub(r'^\[[ 0-9.]+\] ', '', l) for l in lines]
    kunit_parser.stdout = Printer(open(os.devnull, 'w'))
    test = kunit_parser.parse_run_tests(kunit_parser.extract_tap_lines(lines))
    res = [0, 0, 0]
    failed = []
    for name, status in leaves(test):
        if status == kunit_parser.TestStatus.SUCCESS:
            res[0] += 1
        elif status == kunit_parser.TestStatus.SKIPPED:
            res[2] += 1
        else:
            res[1] += 1
            failed.append(name)
    if test.status == kunit_parser.TestStatus.FAILURE_TO_PARSE_TESTS or not sum(res):
        res[1] += 1
        failed.append(f'{os.path.basename(path)}: no test results')
    return res, failed


def main():
    total = [0, 0, 0]
    for path in sys.argv[1:]:
        res, failed = count(path)
        total = [a + b for a, b in zip(total, res)]
        for name in failed:
            print(f'# FAILED {name}')
    print(*total)


if __name__ == '__main__':
    main()
