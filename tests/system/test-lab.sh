#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The lab itself (tools/vnmon-lab, DESIGN.md section 4): a 2x2 lab comes up
# with the expected OVS configuration and working IPv4/IPv6/TCP paths
# (within and across tenants, and to the host port), Redis answers, and
# "down" removes exactly what "up" made.

. "$(dirname -- "$0")/lib.sh"

netns_list()
{
    ip netns list | awk '{print $1}' | sort
}

# Namespaces that must survive this test: all but those named like a lab's
# (NAME-ovs, NAME-t<t>vm<i>), which labs of tests running alongside may
# remove at any time.
netns_others()
{
    netns_list | grep -Ev -- '-(ovs|t[0-9]+vm[0-9]+)$' || true
}
netns_before=$(netns_others)

lab_up --tenants 2 --vms 2
name=$VNM_LAB_NAME

# --- OVS configuration.
check -m "br0 has datapath_type netdev" \
    test "$(ovs_vsctl get bridge br0 datapath_type)" = netdev
ports=$(ovs_vsctl list-ports br0 | sort | tr '\n' ' ')
check -m "br0 has 5 ports ($ports)" \
    test "$ports" = "host0 t1vm1 t1vm2 t2vm1 t2vm2 "
check -m "VMs listed in lab.env" \
    test "$VNM_LAB_VMS" = "t1vm1 t1vm2 t2vm1 t2vm2"

# ovs-vsctl quotes some strings; compare without quotes.
ext_id()
{
    ovs_vsctl get interface "$1" "external_ids:$2" | tr -d '"'
}

for vm in $VNM_LAB_VMS; do
    t=${vm:1:1}
    i=${vm:4:1}
    n=$((10 * t + i))
    mac=$(printf '02:00:00:00:%02x:%02x' "$t" "$i")
    check -m "$vm: attached-mac" test "$(ext_id "$vm" attached-mac)" = "$mac"
    check -m "$vm: vnmon-tenant" \
        test "$(ext_id "$vm" vnmon-tenant)" = "tenant$t"
    check -m "$vm: vnmon-ips" \
        test "$(ext_id "$vm" vnmon-ips)" = "10.0.0.$n,fd00::$n"
    check -m "$vm: iface-id" test -n "$(ext_id "$vm" iface-id)"
    check -m "$vm: vm-uuid" \
        grep -Eq '^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$' \
        <<<"$(ext_id "$vm" vm-uuid)"
    check -m "$vm: eth0 has $mac" \
        grep -qi "link/ether $mac" <<<"$(vm_exec "$vm" ip link show eth0)"
done
check -m "vm-uuids are distinct" test "$(for vm in $VNM_LAB_VMS; do
    ext_id "$vm" vm-uuid; done | sort -u | wc -l)" = 4

# --- Connectivity.
check -m "t1vm1 -> t1vm2 (IPv4, same tenant)" vm_ping t1vm1 10.0.0.12
check -m "t1vm1 -> t2vm1 (IPv4, cross-tenant)" vm_ping t1vm1 10.0.0.21
check -m "t1vm1 -> host 10.0.0.1" vm_ping t1vm1 10.0.0.1
check -m "t1vm1 -> t1vm2 (IPv6 fd00::12)" vm_ping t1vm1 fd00::12
check -m "t2vm2 -> host fd00::1" vm_ping t2vm2 fd00::1

# Exactly one ARP reply for the host's address: arp_ignore=8 keeps the OVS
# namespace's kernel from also answering on the VM ports and br0.
arp_replies()
{
    vm_exec t2vm1 ip neigh flush dev eth0
    vm_exec t2vm1 "$PYTHON" -c '
import socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind(("eth0", 0))
mac = s.getsockname()[4]
req = (b"\xff" * 6 + mac + b"\x08\x06"
       + struct.pack("!HHBBH", 1, 0x800, 6, 4, 1)
       + mac + socket.inet_aton("10.0.0.21")
       + b"\0" * 6 + socket.inet_aton("10.0.0.1"))
s.send(req)
s.settimeout(0.1)
n, end = 0, time.monotonic() + 1.5
while time.monotonic() < end:
    try:
        p = s.recv(100)
    except socket.timeout:
        continue
    if p[20:22] == b"\0\2" and p[28:32] == socket.inet_aton("10.0.0.1"):
        n += 1
print(n)'
}
check -m "exactly one ARP reply for 10.0.0.1" test "$(arp_replies)" = 1

# --- TCP between two VMs (1 MiB, through the userspace datapath).
www=$VNM_LAB_DIR/www
mkdir -p "$www"
head -c 1048576 /dev/urandom >"$www/blob"
vm_bg t1vm2 timeout 60 "$PYTHON" -m http.server 8000 --bind 10.0.0.12 \
    --directory "$www" >"$VNM_LAB_DIR/http.log" 2>&1
http_pid=$BG_PID
wait_for 10 eval "vm_exec t1vm2 ss -Hltn 'sport = :8000' | grep -q 8000" \
    || fail "http.server did not listen in t1vm2"
fetch()
{
    # No proxy: the traffic must stay inside the lab.
    vm_exec "$1" timeout 30 "$PYTHON" -c '
import sys, urllib.request
o = urllib.request.build_opener(urllib.request.ProxyHandler({}))
sys.stdout.buffer.write(o.open(sys.argv[1], timeout=20).read())' "$2" \
        >"$VNM_LAB_DIR/got"
    cmp -s "$www/blob" "$VNM_LAB_DIR/got"
}
check -m "TCP: t1vm1 fetches 1 MiB from t1vm2" \
    fetch t1vm1 http://10.0.0.12:8000/blob
check -m "TCP: t2vm1 fetches 1 MiB from t1vm2 (cross-tenant)" \
    fetch t2vm1 http://10.0.0.12:8000/blob
kill "$http_pid"
wait "$http_pid" 2>/dev/null || true

# --- Redis.
check -m "redis answers PONG on $VNM_REDIS_SOCK" \
    test "$(redis-cli -s "$VNM_REDIS_SOCK" ping)" = PONG

# --- Down removes exactly what up made.
lab_dir=$VNM_LAB_DIR
lab_nss="$VNM_LAB_NETNS"
for vm in $VNM_LAB_VMS; do
    lab_nss="$lab_nss $name-$vm"
done
lab_pids=$(cat "$lab_dir"/run/*.pid | tr '\n' ' ')
check -m "3 daemons (redis, ovsdb-server, ovs-vswitchd) running: $lab_pids" \
    test "$(wc -w <<<"$lab_pids")" = 3
for ns in $lab_nss; do
    check -m "namespace $ns exists" test -e "/run/netns/$ns"
done

lab_down

for ns in $lab_nss; do
    check -m "namespace $ns is gone" test ! -e "/run/netns/$ns"
done
# Exited daemons are children of pid 1, which may reap them late.
pid_gone()
{
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
    [ -z "$st" ] || [ "$st" = Z ]
}
for pid in $lab_pids; do
    check -m "pid $pid is gone" pid_gone "$pid"
done
check -m "$lab_dir is gone" test ! -e "$lab_dir"
missing=$(comm -23 <(printf '%s\n' "$netns_before" | sed '/^$/d') \
    <(netns_others) | tr '\n' ' ')
check -m "pre-existing namespaces untouched${missing:+ (missing: $missing)}" \
    test -z "$missing"
leftover=$(netns_list | grep -E "^$name-(ovs|t[0-9]+vm[0-9]+)$" || true)
check -m "no namespace of the lab left" test -z "$leftover"
check -m "down again is a no-op" \
    "$VNMON_LAB" down --name "$name" --dir "$lab_dir"

echo "PASS: $TEST_NAME"
