#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The operator's tool against the kernel: tools/hugepool/test-cli.sh (its
# usage errors, every verb on a netdevsim and a veth device, and the
# kernel's refusals), run as one of the VM selftests.
exec "$(dirname "$0")/../hugepool/test-cli.sh" "$@"
