#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# modprobe for the test VM: the guest kernel's modules are in
# build/x86/modroot (the host's /lib/modules is read-only and the host's).
# The kernel runs it for module autoload (/proc/sys/kernel/modprobe).
root=$(dirname "$0")/../build/x86/modroot
exec /sbin/modprobe -d "$root" "$@"
