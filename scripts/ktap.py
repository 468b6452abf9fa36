#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Count the leaf results of a KTAP log (KUnit console output or a
selftest's output), using the kernel's own KUnit parser.

A run that tells less than it promised is a failure: a plan with fewer
results than it announced (the parser records each missing one as
crashed), a parent marked "not ok" whose own results all passed (a test
that exited non-zero without saying why), a log with no results at all,
any error the parser reports (wrong test numbers, a missing result line,
a subtest with no results), and results beyond the plan (which the parser
would not read), and a selftest (a selftest-*.ktap of tools/selftests/run.sh)
without a plan of its own. A console log may hold several KTAP documents (built-in
suites at boot, then a module's at load): each is counted.

usage: ktap.py LOG [LOG...]
prints: one "# FAILED name", "# SKIPPED name" or "# ERROR name: what"
line per case, then "<passed> <failed> <skipped>"; exit 0.
Names are "<log>: <test>.<subtest>...". HP_KSRC is the prepared kernel
tree (default: build/linux beside this script's checkout).
"""
import io
import os
import re
import sys

KSRC = os.environ.get('HP_KSRC', os.path.join(os.path.dirname(__file__), '..',
                                              'build', 'linux'))
sys.path.insert(0, os.path.join(KSRC, 'tools', 'testing', 'kunit'))
import kunit_parser  # noqa: E402
from kunit_parser import TestStatus  # noqa: E402
from kunit_printer import Printer  # noqa: E402

ERROR = re.compile(r'\[ERROR\] Test: (.*)$')


def leaves(test, name):
    """(name, status) of every case under test, which is called name; a
    parent that failed while none of its cases did is a case of its own."""
    if not test.subtests:
        yield name, test.status
        return
    bad = False
    for i, sub in enumerate(test.subtests, 1):
        for leaf in leaves(sub, f'{name}.{sub.name or f"#{i}"}'):
            bad = bad or leaf[1] not in (TestStatus.SUCCESS,
                                         TestStatus.SKIPPED)
            yield leaf
    if test.status in (TestStatus.FAILURE, TestStatus.TEST_CRASHED) and not bad:
        yield f'{name} (its own result)', test.status


TOP_LEVEL = re.compile(r'(K?)TAP version [0-9]+$')


def documents(path):
    """The log's lines, split at each top-level KTAP header: the console
    of a guest that loads a module of KUnit suites after boot holds one
    KTAP document for the built-in suites and one per module."""
    with open(path, errors='replace') as f:
        lines = f.read().splitlines()
    # console output: drop printk timestamps before the parser sees it
    lines = [re.sub(r'^\[[ 0-9.]+\] ', '', line) for line in lines]
    starts = [i for i, line in enumerate(lines) if TOP_LEVEL.match(line)]
    if not starts:
        return [lines]
    return [lines[a:b] for a, b in zip(starts, starts[1:] + [len(lines)])]


def parse(lines):
    """The parsed run of one document, the parser's errors, and result
    lines it left unread (results beyond a plan)."""
    # The parser peeks at the last line again once past the end, and a
    # log cut off in a subtest then crashes it: end on a line that is
    # not KTAP.
    lines = lines + ['']
    out = io.StringIO()
    kunit_parser.stdout = Printer(out)
    stream = kunit_parser.extract_tap_lines(lines)
    if stream:
        test = kunit_parser.parse_test(stream, 0, [], False)
        if test.status != TestStatus.NO_TESTS:
            test.status = test.counts.get_status()
    else:
        test = kunit_parser.Test()
        test.status = TestStatus.FAILURE_TO_PARSE_TESTS
    unread = []
    while stream:
        line = stream.pop()
        if kunit_parser.TEST_RESULT.match(line):
            unread.append(line.strip())
    errors = [m.group(1) for m in map(ERROR.search, out.getvalue().splitlines())
              if m]
    return test, errors, unread


def count(path):
    """[passed, failed, skipped] and the report lines of one log."""
    base = os.path.basename(path)
    res = [0, 0, 0]
    report = []
    for lines in documents(path):
        try:
            test, errors, unread = parse(lines)
        except Exception as e:  # a parser crash is no verdict of pass
            res[1] += 1
            report.append(f'# ERROR {base}: the KTAP parser failed: {e!r}')
            continue
        doc_failed = res[1]
        cases = (leaf for i, sub in enumerate(test.subtests, 1)
                 for leaf in leaves(sub, f'{base}: {sub.name or f"#{i}"}'))
        for name, status in cases:
            if status == TestStatus.SUCCESS:
                res[0] += 1
            elif status == TestStatus.SKIPPED:
                res[2] += 1
                report.append(f'# SKIPPED {name}')
            else:
                res[1] += 1
                report.append(f'# FAILED {name} ({status.name.lower()})')
        # What the parser complains of is reported; it fails the document
        # once, unless a case of it failed already (a missing case is both).
        report += [f'# ERROR {base}: {err}' for err in errors]
        report += [f'# ERROR {base}: a result beyond the plan: {line}'
                   for line in unread]
        if (errors or unread) and res[1] == doc_failed:
            res[1] += 1
        # A selftest (run.sh's wrapper of one test) states its plan: one
        # without, whether it printed nothing or stopped early, cannot tell
        # what it left out.
        if base.startswith('selftest-'):
            for sub in test.subtests:
                if sub.expected_count is None and sub.subtests:
                    res[1] += 1
                    report.append(f'# FAILED {base}: {sub.name}: no KTAP plan')
        if test.status == TestStatus.FAILURE_TO_PARSE_TESTS:
            res[1] += 1
            report.append(f'# FAILED {base}: no KTAP')
    if not sum(res):
        res[1] += 1
        report.append(f'# FAILED {base}: no test results')
    return res, report


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    total = [0, 0, 0]
    for path in sys.argv[1:]:
        res, report = count(path)
        total = [a + b for a, b in zip(total, res)]
        for line in report:
            print(line)
    print(*total)


if __name__ == '__main__':
    main()
