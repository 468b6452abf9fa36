#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot the x86_64 kernel of build/x86 in QEMU with the host's root shared
# read-only over 9p, run a command in it, and exit with its status.
# The console log goes to <out>/console.log and, with -v, to stdout.
# The checkout, build/ (BUILD), the kernel tree and the modules (X86_OUT)
# may be anywhere, /tmp and /root included: the guest keeps them visible.
#
# usage: scripts/vm.sh [-m MiB] [-s cpus] [-a "kernel args"] [-t seconds]
#                      [-o outdir] [-v] [--mt] [--kvm] [--numa]
#                      [--nic vmxnet3] [--iommu strict|lazy] [--iotlb-trace]
#                      [--trace EVENT[,EVENT...]] -- command [args...]
#   --mt   multi-threaded TCG: faster, but QEMU 7.2 oopses on live kernel
#          text patching (static keys, XDP attach); measurements only
#   --kvm  use /dev/kvm (HUGEPOOL_KVM=1 does the same); only where it is a
#          real KVM: the nested one on these machines is slower than TCG
#   --numa two NUMA nodes, one CPU and half the memory each (-s 2)
#   --nic vmxnet3
#          a q35 machine with two vmxnet3 NICs on one QEMU hub (a wire):
#          PCI 0000:00:10.0 (the tests' sender) and 0000:00:11.0 (receiver)
#   --iommu strict|lazy
#          q35 with an emulated Intel IOMMU (-device intel-iommu,intremap=off),
#          on in the guest (intel_iommu=on), unmaps invalidating the IOTLB at
#          once (strict, iommu.strict=1) or in batches (lazy, iommu.strict=0)
#   --trace EVENT[,EVENT...]
#          QEMU trace events (patterns allowed) to <out>/qemu-trace.log
#   --iotlb-trace
#          --trace vtd_iotlb_page_hit,vtd_iotlb_page_update: the IOMMU's
#          IOTLB hits and fills, each naming the device (sid, bus<<8|devfn)
# HP_DEADLINE (seconds since the epoch, set by make check for the whole
# run): the VM ends by then whatever -t says, and does not boot with less
# than two minutes left.
# exit: the command's status; 124 on timeout; 125 if the VM died first
set -euo pipefail
. "$(dirname "$0")/lib.sh"

MEM=2048 CPUS=2 APPEND="" TIMEOUT=900 OUT="" VERBOSE=0 MT=0 KVM=${HUGEPOOL_KVM:-0} NUMA=0
NIC="" IOMMU="" TRACE=""
# where --nic puts the NICs: PCI slots on bus 0 of q35 (sid = slot << 3)
NIC_SLOTS=(0x10 0x11)

usage() {
	sed -n '3,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2
	exit 2
}

parse() {
	while [[ $# -gt 0 ]]; do
		case $1 in
		-m) MEM=$2; shift 2 ;;
		-s) CPUS=$2; shift 2 ;;
		-a) APPEND=$2; shift 2 ;;
		-t) TIMEOUT=$2; shift 2 ;;
		-o) OUT=$2; shift 2 ;;
		-v) VERBOSE=1; shift ;;
		--mt) MT=1; shift ;;
		--kvm) KVM=1; shift ;;
		--numa) NUMA=1; shift ;;
		--nic) NIC=$2; shift 2 ;;
		--iommu) IOMMU=$2; shift 2 ;;
		--trace) TRACE=${TRACE:+$TRACE,}$2; shift 2 ;;
		--iotlb-trace) TRACE=${TRACE:+$TRACE,}vtd_iotlb_page_hit,vtd_iotlb_page_update; shift ;;
		--) shift; break ;;
		*) usage ;;
		esac
	done
	[[ $# -gt 0 ]] || usage
	[[ $NUMA == 0 || $CPUS == 2 ]] || die "--numa needs 2 CPUs"
	[[ -z $NIC || $NIC == vmxnet3 ]] || die "--nic: only vmxnet3"
	[[ -z $IOMMU || $IOMMU == strict || $IOMMU == lazy ]] || die "--iommu: strict or lazy"
	CMD=("$@")
}

# -smp: with --numa, one socket per node, or the guest's scheduler finds
# two cores of one socket (one LLC) on two nodes and WARNs in topology_sane()
smp() {
	if [[ $NUMA == 1 ]]; then
		echo "$CPUS,sockets=$CPUS,cores=1,threads=1"
	else
		echo "$CPUS"
	fi
}

# --numa: node 0 with CPU 0, node 1 with CPU 1, half the memory each
numa() {
	[[ $NUMA == 1 ]] || return 0
	local half=$((MEM / 2))
	echo "-object memory-backend-ram,id=m0,size=${half}M" \
		"-object memory-backend-ram,id=m1,size=$((MEM - half))M" \
		"-numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1"
}

# --nic, --iommu: q35 (the Intel IOMMU needs it), the NICs and the IOMMU.
# The default machine (pc) stays what it was for every other run.
devices() {
	local i
	[[ -n $NIC || -n $IOMMU ]] || return 0
	echo "-machine q35"
	[[ -z $IOMMU ]] || echo "-device intel-iommu,intremap=off"
	[[ -n $NIC ]] || return 0
	for i in "${!NIC_SLOTS[@]}"; do
		echo "-netdev hubport,id=hpnic$i,hubid=0" \
			"-device $NIC,netdev=hpnic$i,addr=${NIC_SLOTS[$i]},mac=52:54:00:48:50:1$i"
	done
}

# the guest's side of --iommu
iommu_args() {
	case $IOMMU in
	strict) echo "intel_iommu=on iommu.strict=1" ;;
	lazy) echo "intel_iommu=on iommu.strict=0" ;;
	esac
}

# --trace: the events in a file QEMU reads, the log in the output dir
trace() {
	[[ -n $TRACE ]] || return 0
	tr ',' '\n' <<< "$TRACE" > "$OUT/qemu-trace.events"
	echo "-trace events=$OUT/qemu-trace.events,file=$OUT/qemu-trace.log"
}

accel() {
	if [[ $KVM == 1 && -w /dev/kvm ]]; then
		echo "-enable-kvm -cpu host"
	elif [[ $MT == 1 ]]; then
		echo "-accel tcg,thread=multi -cpu max"
	else
		echo "-accel tcg,thread=single -cpu max"
	fi
}

# The kernel tree the guest kernel was built from (its tools, netlink
# specs and kselftest helpers), wherever X86_OUT points.
ksrc() {
	if [[ -d $X86_OUT/source ]]; then
		(cd "$X86_OUT/source" && pwd -P)
	else
		echo "$KSRC"
	fi
}

main() {
	local kernel rc
	parse "$@"
	# the guest reads the modules from hp_modroot wherever it runs from
	[[ ! -d $X86_OUT ]] || X86_OUT=$(cd "$X86_OUT" && pwd)
	TIMEOUT=$(vm_timeout "$TIMEOUT")
	if ((TIMEOUT < 120)); then
		log "not booting: ${TIMEOUT}s left of the run's budget (HP_DEADLINE)"
		exit 124
	fi
	kernel=$X86_OUT/arch/x86/boot/bzImage
	[[ -f $kernel ]] || die "no $kernel: run scripts/build-x86.sh"
	OUT=${OUT:-$VM_OUT/run-$$}
	rm -rf "$OUT"
	mkdir -p "$OUT"
	OUT=$(cd "$OUT" && pwd)
	printf '%q ' "${CMD[@]}" > "$OUT/cmd.sh"
	echo >> "$OUT/cmd.sh"

	set +e
	# The stall detectors wait longer than on hardware: a TCG vCPU thread
	# that the host does not run for a while (two guests on two cores,
	# QEMU's own threads) looks to the guest like a CPU stuck that long
	# (seen: 'soft lockup - CPU#0 stuck for 22s' in clear_page under a
	# THP fault). watchdog_thresh=60 reports a soft lockup after 120 s.
	# shellcheck disable=SC2046	# accel's words are separate options
	timeout --foreground -k 10 "$TIMEOUT" qemu-system-x86_64 \
		$(accel) -m "$MEM" -smp "$(smp)" $(numa) $(devices) $(trace) \
		-nographic -no-reboot -nic none \
		-kernel "$kernel" \
		-virtfs local,id=root,path=/,mount_tag=/dev/root,security_model=none,readonly=on,multidevs=remap \
		-virtfs local,id=out,path="$OUT",mount_tag=out,security_model=none,multidevs=remap \
		-append "console=ttyS0 root=/dev/root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=262144,cache=loose ro init=$TOP/scripts/vm-init.sh panic=-1 oops=panic acpi=noirq rcupdate.rcu_cpu_stall_timeout=300 rcupdate.rcu_task_stall_timeout=0 watchdog_thresh=60 hp_out=$OUT hp_top=$TOP hp_build=$BUILD hp_ksrc=$(ksrc) hp_modroot=$X86_OUT/modroot $(iommu_args) $APPEND" \
		< /dev/null > "$OUT/console.log" 2>&1 &
	local qpid=$!
	if [[ $VERBOSE == 1 ]]; then
		tail -n +1 -f --pid=$qpid "$OUT/console.log" 2>/dev/null || true
	fi
	wait $qpid
	rc=$?
	set -e
	if [[ $rc == 124 || $rc == 137 ]]; then
		log "VM timed out after ${TIMEOUT}s (log: $OUT/console.log)"
		exit 124
	fi
	if [[ ! -f $OUT/rc ]]; then
		log "VM died before the command finished (log: $OUT/console.log)"
		exit 125
	fi
	exit "$(cat "$OUT/rc")"
}

main "$@"
