# SPDX-License-Identifier: GPL-2.0
# hugepool: huge pages, recycling policies and a memory cap for page_pool.
# The two commands of the README:
#   make run     boot the VM, put providers on real queues, push traffic,
#                print what happened
#   make check   every test, ending with "N passed, N failed, N skipped"
# Both install what they need (apt) and prepare build/ on first use.

SHELL := /bin/bash
S := scripts

.PHONY: all deps prepare kunit kernel kunit-x86 selftests check run bench \
	bench-nic bench-tput series series-check vm trace clean distclean help

all: prepare

help:
	@sed -n '2,8p' Makefile | sed 's/^# \{0,1\}//'
	@echo "other targets: deps prepare kunit kernel kunit-x86 selftests bench bench-nic bench-tput series series-check vm trace clean"

deps:
	$(S)/deps.sh

prepare: deps
	$(S)/prepare.sh

# KUnit under UML
kunit: prepare
	$(S)/kunit-uml.sh

# the x86_64 guest kernel (VM selftests, x86_64 KUnit)
kernel: prepare
	$(S)/build-x86.sh

kunit-x86: kernel
	$(S)/kunit-x86.sh

selftests: kernel
	$(S)/selftests.sh $(TESTS)

check:
	$(S)/check.sh

run: kernel
	$(S)/run.sh

bench: prepare
	$(S)/bench.sh

# a real NIC (vmxnet3) behind the emulated IOMMU: DMA maps and IOTLB misses
# per provider against the page allocator; IOMMU=lazy for the other mode
bench-nic: prepare
	$(S)/bench-nic.sh --iommu $(or $(IOMMU),strict)

# TCP throughput per provider and policy against the page allocator, veth
# (native XDP) and vmxnet3, on a guest kernel without debugging options
# (build/x86-fast, built on first use); IOMMU=lazy|off, ROUNDS=N
bench-tput: prepare
	$(S)/bench-tput.sh --iommu $(or $(IOMMU),strict) --rounds $(or $(ROUNDS),3)

# the patch series against pristine Debian source, in build/series/
series: prepare
	$(S)/series.sh

# netdev's per-patch checks (NIPA) on every patch of the series
series-check: prepare
	$(S)/deps.sh --series
	$(S)/series-check.sh

# the bpftrace tools and perf recipes against live traffic in the guest
trace: kernel
	$(S)/build-tools.sh
	$(S)/vm.sh -t 1800 -o build/vm/trace -- tools/bpftrace/demo.sh $(CURDIR)/build/vm/trace/demo.txt; \
		rc=$$?; cat build/vm/trace/demo.txt 2>/dev/null; exit $$rc

# a shell in the guest: make vm CMD="..."
vm: kernel
	$(S)/vm.sh -v -- $(or $(CMD),bash -c 'echo usage: make vm CMD=...')

clean:
	rm -rf build/uml build/x86 build/vm build/results build/tools build/series

distclean:
	rm -rf build
