# SPDX-License-Identifier: GPL-2.0
# hugepool: huge pages, recycling policies and a memory cap for page_pool.
# Every target installs what it needs (apt) and prepares build/ on first
# use. `make help` lists them; each "## " comment below is its line there.

SHELL := /bin/bash
S := scripts

.PHONY: all deps prepare kunit kernel kunit-x86 selftests check check-long run run-long \
	bench bench-nic bench-tput series series-check vm trace clean distclean help

all: prepare

## help          this list
help:
	@awk '/^## / { sub(/^## /, "  make "); print }' $(firstword $(MAKEFILE_LIST))

## deps          install the Debian packages the harness needs (as root)
deps:
	$(S)/deps.sh

## prepare       build/linux: pristine 6.12 source, patches/ applied, our files placed
prepare: deps
	$(S)/prepare.sh

# KUnit under UML
## kunit         KUnit under UML (the providers' and policies' logic)
kunit: prepare
	$(S)/kunit-uml.sh

# the x86_64 guest kernel (VM selftests, x86_64 KUnit)
## kernel        the x86_64 guest kernel with the checkers (build/x86)
kernel: prepare
	$(S)/build-x86.sh

## kunit-x86     KUnit in the guest: two CPUs, DMA, swiotlb
kunit-x86: kernel
	$(S)/kunit-x86.sh

## selftests     the VM selftests, every boot; TESTS="veth_xdp nsim_hold" for some
selftests: kernel
	$(S)/selftests.sh $(TESTS)

## check         every test in two lanes (~35 min warm, ~66 cold on AMD EPYC); "N passed, N failed, N skipped"
check:
	$(S)/check.sh

## check-long    make check plus what it leaves out (netlink CLI test, fault sweep, vmxnet3 on the page allocator)
check-long:
	$(S)/check.sh --long

## run           the short tour (~6 min): boot the guest, a hugepage binding on real queues, traffic, counters, the cap
run: kernel
	$(S)/run.sh

## run-long      the whole tour (~12 min): also huge page scarcity (hugeadm) and the namespace's defaults
run-long: kernel
	$(S)/run.sh --long

## bench         single-CPU costs of refill and release under UML against the page allocator
bench: prepare
	$(S)/bench.sh

# a real NIC (vmxnet3) behind the emulated IOMMU: DMA maps and IOTLB misses
# per provider against the page allocator; IOMMU=lazy for the other mode
## bench-nic     DMA maps and IOTLB fills of vmxnet3 behind the IOMMU; IOMMU=lazy
bench-nic: prepare
	$(S)/bench-nic.sh --iommu $(or $(IOMMU),strict)

# TCP throughput per provider and policy against the page allocator, veth
# (native XDP) and vmxnet3, on a guest kernel without debugging options
# (build/x86-fast, built on first use); IOMMU=lazy|off, ROUNDS=N
## bench-tput    TCP throughput per provider on a kernel without debugging; ROUNDS=N
bench-tput: prepare
	$(S)/bench-tput.sh --iommu $(or $(IOMMU),strict) --rounds $(or $(ROUNDS),3)

# the patch series against pristine Debian source, in build/series/
## series        the patch series in build/series/, applied and built from pristine
series: prepare
	$(S)/series.sh

# netdev's per-patch checks (NIPA) on every patch of the series
## series-check  netdev's per-patch checks (W=1, sparse, checkpatch, kdoc) on every patch
series-check: prepare
	$(S)/deps.sh --series
	$(S)/series-check.sh

# the bpftrace tools and perf recipes against live traffic in the guest
## trace         the bpftrace tools and perf recipes against live traffic in the guest
trace: kernel
	$(S)/build-tools.sh
	$(S)/vm.sh -t 1800 -o build/vm/trace -- tools/bpftrace/demo.sh $(CURDIR)/build/vm/trace/demo.txt; \
		rc=$$?; cat build/vm/trace/demo.txt 2>/dev/null; exit $$rc

# a shell in the guest: make vm CMD="..."
## vm            a command in the guest: make vm CMD="..."
vm: kernel
	$(S)/vm.sh -v -- $(or $(CMD),bash -c 'echo usage: make vm CMD=...')

## clean         remove the builds and results (keeps build/linux and ccache)
clean:
	rm -rf build/uml build/x86 build/vm build/results build/tools build/series

## distclean     remove build/ altogether
distclean:
	rm -rf build
