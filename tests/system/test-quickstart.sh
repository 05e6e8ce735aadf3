#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# README command 1 (tools/quickstart.sh) on this machine: with a demo lab,
# it ends with agent and analyzer running, connected to Redis, plugins
# loaded, and prints `vnmonctl status`; "stop" removes everything.  The
# package installation step is skipped (CI installed them already).
. "$(dirname "$0")/lib.sh"

export VNM_DEMO_DIR=/tmp/vnm-qs-$$ VNM_DEMO_NAME=vq$$ VNM_NO_INSTALL=1 \
    VNM_FORCE_LAB=1
qs=$VNM_TOP/tools/quickstart.sh
trap '"$qs" stop >/dev/null 2>&1 || true' EXIT

before=$(ip netns list | sort)
out=$("$qs" start 2>&1) || { printf '%s\n' "$out"; fail "quickstart failed"; }
printf '%s\n' "$out"
check -m "quickstart shows the agent up" grep -Eq '^agent +[^ ]+ +up .*connected' <<<"$out"
# Every detector built, and the jsonl sink.
n_plugins=$(( $(ls "$VNM_BUILDDIR"/plugins/detect-*.so | wc -l) + 1 ))
check -m "quickstart shows the analyzer up with $n_plugins plugins" \
    grep -Eq "^analyzer +[^ ]+ +up .*connected +$n_plugins\$" <<<"$out"
check -m "status names the spoofing detectors" \
    grep -q 'detector "ip-spoof"' <<<"$out"
check -m "status names the detector and the sink" \
    grep -q 'sink "jsonl"' <<<"$out"
check -m "quickstart status works" "$qs" status
check -m "the demo lab has its VMs" ip netns exec "$VNM_DEMO_NAME-t1vm1" true

check -m "quickstart stop" "$qs" stop
trap - EXIT
check -m "nothing left: state directory" test ! -e "$VNM_DEMO_DIR"
after=$(ip netns list | sort)
check -m "nothing left: namespaces" test "$before" = "$after"
# "[v]" keeps the pattern from matching pgrep's own shell.
check -m "nothing left: daemons" sh -c "! pgrep -f '[v]nmon-.*$VNM_DEMO_DIR'"
