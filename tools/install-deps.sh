#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Installs, from Debian 12's own archive, everything vnmon needs to build,
# run and test.  Idempotent; needs root.  Used by the README's quickstart
# and by .ci/run.
set -eu

PKGS="
    build-essential autoconf automake libtool pkg-config git ca-certificates
    clang libclang-rt-14-dev llvm
    libndpi-dev libndpi-bin
    libhiredis-dev libevent-dev
    libnetfilter-conntrack-dev
    libmaxminddb-dev libmaxmind-db-writer-perl
    libjansson-dev libcurl4-openssl-dev libinih-dev libpcap-dev libcap-dev
    libmicrohttpd-dev libcmocka-dev
    openvswitch-switch redis-server
    iproute2 iputils-ping ethtool procps psmisc kmod nftables conntrack curl
    openssl
    python3 python3-scapy iperf3 hping3 nmap tshark dnsmasq python3-aiosmtpd
    valgrind cppcheck
    graphviz chromium
"

if [ "$(id -u)" != 0 ]; then
    echo "install-deps: must run as root (apt-get)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
missing=
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' \
        || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi
echo "install-deps: installing:$missing"
# tshark asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" \
    | debconf-set-selections 2>/dev/null || true
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
