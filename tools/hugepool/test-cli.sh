#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# hugepool, the command line, against a kernel with the memory provider
# operations of the netdev family: usage errors send nothing (exit 2);
# bind, set, show, queues, pools and unbind on a netdevsim device, whose
# queue management ops restart the queues (bound at once), and on a veth
# device, which has none (pending until XDP attach creates its pools);
# the kernel's refusals (exit 1, "hugepool: OP: strerror: extack"): bad
# ifindex, queue out of range or bound already, unknown policy, a policy
# parameter refused, another provider's parameters, no such binding; and
# monitor printing the add, change and del notifications.
#
# usage: tools/hugepool/test-cli.sh   (root, in the guest: scripts/vm.sh --
#                                      tools/hugepool/test-cli.sh; HP: the
#                                      binary, default build/tools/hugepool)
set -uo pipefail
. "$(dirname "$0")/../selftests/lib.sh"

HP=${HP:-$HP_BUILD/tools/hugepool}
NSIM=/sys/bus/netdevsim
NSIM_ID=$$
HP_RUN=()	# the command prefix: the namespace hugepool runs in

# hp ARGS...: run hugepool; its status, stdout and stderr in RC, OUT, ERR
hp() {
	RC=0
	"${HP_RUN[@]}" "$HP" "$@" > "$HP_TMP/out" 2> "$HP_TMP/err" || RC=$?
	OUT=$(< "$HP_TMP/out")
	ERR=$(< "$HP_TMP/err")
}

# expect "description" STATUS STDOUT-ERE STDERR-ERE ARGS...: one case,
# hugepool ARGS exits with STATUS and a line of each output matches its
# pattern ("" matches anything, "^$" wants the output empty)
expect() {
	local desc=$1 rc=$2 out=$3 err=$4
	shift 4
	hp "$@"
	if [[ $RC == "$rc" ]] && match "$OUT" "$out" && match "$ERR" "$err"; then
		hp_ok "$desc"
		return 0
	fi
	hp_log "hugepool $*: exit $RC, expected $rc; stdout /$out/, stderr /$err/:"
	{ echo "$OUT"; echo "$ERR"; } | hp_dump -
	hp_not_ok "$desc"
	return 1
}

match() {
	if [[ $2 == '^$' ]]; then
		[[ -z $1 ]]
	else
		grep -Eq -- "$2" <<< "$1"
	fi
}

# the netdev of our netdevsim device, once it has one
nsim_dev() {
	local d
	for d in "$NSIM/devices/netdevsim$NSIM_ID/net/"*; do
		[[ -e $d ]] && basename "$d"
		return
	done
}

nsim_has_dev() { [[ -n $(nsim_dev) ]]; }

usage_errors() {
	expect "no command: usage" 2 "" "^usage: hugepool bind"
	expect "bind without QUEUES" 2 "^$" "bind: missing QUEUES" bind lo
	expect "bind, bad QUEUES" 2 "^$" "bad QUEUES '0,,1'" bind lo 0,,1 huge
	expect "bind, bad number" 2 "^$" "blocks: bad number '-1'" bind lo 0 huge blocks -1
	expect "bind, unknown word" 2 "^$" "unknown word 'bogus'" bind lo 0 huge bogus 1
	expect "bind, unknown policy parameter" 2 "^$" "policy parameter 'foo'" \
		bind lo 0 huge policy percpu foo=1
	expect "bind cap without PAGES" 2 "^$" "cap: missing PAGES" bind lo 0 cap
	expect "set, nothing to change" 2 "^$" "nothing to change" set 1
	expect "set, two providers' parameters" 2 "^$" "together" set 1 max 2 cap 64
	expect "unbind without ID" 2 "^$" "missing ID" unbind
	expect "unknown command" 2 "^$" "unknown command 'frob'" frob
	expect "no such device name" 1 "^$" "^hugepool: nosuchdev0: No such device$" \
		show nosuchdev0
}

# monitor_start / monitor_stop: hugepool monitor in the background
monitor_start() {
	"$HP" monitor > "$HP_TMP/mon.out" 2> "$HP_TMP/mon.err" &
	MON=$!
	hp_cleanup_add monitor "kill $MON"
	hp_until $((SECONDS + 20)) grep -q waiting "$HP_TMP/mon.err"
}

monitor_stop() {
	local rc=0
	kill -INT "$MON"
	wait "$MON" || rc=$?
	hp_cleanup_drop monitor
	hp_expect "monitor: SIGINT ends it, exit 0" "$rc" -eq 0 || hp_dump "$HP_TMP/mon.err"
}

# monitor_saw "description" ERE: a line monitor printed
monitor_saw() {
	if hp_until $((SECONDS + 10)) grep -Eq -- "$2" "$HP_TMP/mon.out"; then
		hp_ok "$1"
	else
		hp_log "monitor printed, no line /$2/:"
		hp_dump "$HP_TMP/mon.out"
		hp_not_ok "$1"
	fi
}

nsim_huge() {
	local dev=$1 id=$2

	expect "show: the binding, its queues active" 0 \
		"^  rx-queue 1 +active$" "^$" show "$dev"
	expect "show: policy and max-blocks" 0 "^  max-blocks +2$" "" show "$dev"
	expect "show: the policy" 0 "^  policy +lifo$" "" show "$dev"
	expect "show without DEV lists it" 0 "^binding $id: huge, $dev \(ifindex [0-9]+\), rx queues 0-1$" \
		"^$" show
	expect "queues: queue 0 bound, not pending" 0 "^ +0 +[-0-9]+ +$id huge +no$" "^$" \
		queues "$dev"
	expect "pools: a pool drawing from the binding" 0 " $id huge +live$" "^$" pools "$dev"
	expect "set max" 0 "^$" "^$" set "$id" max 1
	expect "show: max-blocks lowered" 0 "^  max-blocks +1$" "" show "$dev"
	expect "set trim" 0 "^$" "^$" set "$id" trim
	expect "refused: a parameter the policy does not take" 1 "^$" \
		"^hugepool: mp-binding-set: Invalid argument: policy lifo does not take parameter budget" \
		set "$id" budget=5
	expect "refused: another provider's parameters" 1 "^$" \
		"^hugepool: mp-binding-set: Invalid argument: parameters of another provider" \
		set "$id" cap 128
	expect "refused: a queue bound already (EBUSY)" 1 "^$" \
		"^hugepool: mp-bind: Device or resource busy: rx queue 0 is bound already \(binding $id\)" \
		bind "$dev" 0 huge
	expect "refused: a queue out of range (ERANGE)" 1 "^$" \
		"^hugepool: mp-bind: Numerical result out of range: rx queue 99 out of range" \
		bind "$dev" 99 huge
	expect "refused: an unknown policy (ENOENT)" 1 "^$" \
		"^hugepool: mp-bind: No such file or directory: unknown recycling policy" \
		bind "$dev" 2 huge policy nosuchpolicy
	expect "refused: a policy parameter out of range (ERANGE, the spec's bound, the attribute named)" 1 "^$" \
		"^hugepool: mp-bind: Numerical result out of range: integer out of range \(bad attribute: \.huge\.policy-params\.magazine\)" \
		bind "$dev" 2 huge policy percpu magazine=0
	expect "refused: a bad ifindex" 1 "^$" \
		"^hugepool: mp-bind: No such device: no such device" bind 999999 0 huge
	expect "unbind" 0 "^$" "^$" unbind "$id"
	expect "show: no binding left on the device" 0 "^no bindings$" "^$" show "$dev"
	expect "refused: unbind again" 1 "^$" \
		"^hugepool: mp-unbind: No such file or directory: (no such binding|the binding has no queue left)" \
		unbind "$id"
}

nsim_cap() {
	local dev=$1 id

	expect "bind cap: prints the id" 0 "^[0-9]+$" "^$" bind "$dev" 2-3 cap 128 low 100
	id=$OUT
	expect "show: cap and cap-low" 0 "^  cap-low +100$" "" show "$dev"
	expect "refused: a device budget the binding did not start with" 1 "^$" \
		"^hugepool: mp-binding-set: Invalid argument: the binding's device has no budget.*device-budget" \
		set "$id" cap 256 device-budget 1024
	expect "show: the refused set changed nothing" 0 "^  cap +128$" "" show "$dev"
	expect "set cap and low" 0 "^$" "^$" set "$id" cap 256 low 200
	expect "show: the new cap" 0 "^  cap +256$" "" show "$dev"
	expect "unbind cap" 0 "^$" "^$" unbind "$id"
	expect "bind cap with a device budget" 0 "^[0-9]+$" "^$" \
		bind "$dev" 2-3 cap 128 device-budget 512
	id=$OUT
	expect "show: the device budget" 0 "^  device-budget +512$" "" show "$dev"
	expect "set cap, low and device-budget" 0 "^$" "^$" \
		set "$id" cap 256 low 200 device-budget 1024
	expect "show: the new device budget" 0 "^  device-budget +1024$" "" show "$dev"
	expect "refused: trim of a memory-cap binding (EINVAL)" 1 "^$" \
		"^hugepool: mp-binding-set: Invalid argument: trim is for hugepage bindings" set "$id" trim
	expect "unbind cap" 0 "^$" "^$" unbind "$id"
}

netdevsim() {
	local dev id

	echo "$NSIM_ID 1 4" > $NSIM/new_device || hp_fail_all "cannot create netdevsim $NSIM_ID"
	hp_cleanup_add nsim "echo $NSIM_ID > $NSIM/del_device"
	hp_until $((SECONDS + 5)) nsim_has_dev
	dev=$(nsim_dev)
	[[ -n $dev ]] || hp_fail_all "netdevsim $NSIM_ID has no netdev"
	ip link set "$dev" up

	monitor_start || hp_fail_all "monitor did not start: $(< "$HP_TMP/mon.err")"
	expect "bind huge on netdevsim: prints the id, nothing pending" 0 "^[0-9]+$" "^$" \
		bind "$dev" 0-1 huge blocks 1 max 2 policy lifo
	id=$OUT
	[[ $id =~ ^[0-9]+$ ]] || hp_fail_all "no binding id"
	nsim_huge "$dev" "$id"
	monitor_saw "monitor: add" "^add binding $id huge dev $dev queues 0-1 .*policy lifo"
	monitor_saw "monitor: change" "^change binding $id huge .*max-blocks 1"
	monitor_saw "monitor: del" "^del binding $id huge"
	monitor_stop
	nsim_cap "$dev"

	echo "$NSIM_ID" > $NSIM/del_device
	hp_cleanup_drop nsim
}

veth() {
	local id

	hp_veth_pair 10.98.0 2 || hp_fail_all "cannot make the veth pair"
	HP_RUN=(ip netns exec "$HP_NSB")
	expect "bind huge on veth: the id, and pending" 0 "^[0-9]+$" \
		"^hugepool: mp-bind: pending: " bind vb 0-1 huge blocks 1
	id=$OUT
	expect "queues: pending until a page pool is made" 0 "^ +1 +[-0-9]+ +$id huge +yes$" \
		"^$" queues vb
	expect "show: the queues pending" 0 "^  rx-queue 0 +pending$" "^$" show vb
	hp_check "XDP attached: veth makes its page pools" \
		ip -n "$HP_NSB" link set dev vb xdpdrv obj "$(hp_xdp_obj)" sec xdp
	expect "queues: no longer pending" 0 "^ +1 +[-0-9]+ +$id huge +no$" "^$" queues vb
	expect "pools: drawing from the binding" 0 " $id huge +live$" "^$" pools vb
	expect "unbind on veth" 0 "^$" "^$" unbind "$id"
	HP_RUN=()
	hp_veth_del
}

main() {
	echo "KTAP version 1"
	[[ $(id -u) == 0 ]] || hp_skip_all "$HP_NAME needs root"
	[[ -x $HP ]] || hp_skip_all "no $HP: run scripts/build-tools.sh"
	hp show
	[[ $RC == 0 ]] || hp_skip_all "a kernel without mp-binding-get: $ERR"
	[[ -d $NSIM ]] || modprobe netdevsim 2>/dev/null
	[[ -d $NSIM ]] || hp_skip_all "no netdevsim"
	hp_plan 56
	hp_sysctl_default net.core.mp_default=none

	usage_errors
	netdevsim
	veth
	hp_done
}

main "$@"
