#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The analyzer's network view (analyzer/tenancy.c, net-sync.c) on a real
# lab: it applies the agent's inventory from Redis; a VM port without a
# declared binding learns its MAC and address from its first traffic, saves
# them in vnm:{HOST}:bindings, and a restarted analyzer restores them
# instead of learning again; an inventory file declares a port's tenant; a
# bad inventory file line is refused at start with file, line and key.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/daemon-lib.sh"

lab_up --tenants 2 --vms 2
write_configs
cat >>"$VNM_LAB_DIR/etc/agent.conf" <<CONF

[flows]
idle_timeout = 2s
update_interval = 1s
CONF
inventory=$VNM_LAB_DIR/etc/inventory.conf
cat >"$inventory" <<CONF
; t2vm2 is declared here only for its VM id.
[port "t2vm2"]
vm = declared-in-file
CONF
cat >>"$VNM_LAB_DIR/etc/analyzer.conf" <<CONF

[tenancy]
learn = first
inventory = $inventory
CONF

# t2vm2 loses its declared addresses: the analyzer must learn them.
ovs_vsctl remove interface t2vm2 external_ids vnmon-ips
ovs_vsctl remove interface t2vm2 external_ids attached-mac

redis()
{
    redis-cli -s "$VNM_REDIS_SOCK" "$@"
}
bindings()
{
    redis --raw GET "vnm:{$VNM_LAB_NAME}:bindings"
}
learned_t2vm2()
{
    bindings | "$PYTHON" -c '
import json, sys
b = json.load(sys.stdin)
assert b["t2vm2"]["ips"] == ["10.0.0.22"], b
assert b["t2vm2"]["macs"] == ["02:00:00:00:02:02"], b
assert "t1vm1" not in b, b      # Declared ports learn nothing.
' 2>/dev/null
}
applied()
{
    [ "$(status_field analyzer counters | "$PYTHON" -c \
        'import json,sys; print(json.load(sys.stdin).get("inventories_applied", 0))')" \
        -ge 1 ]
}

start_agent
start_analyzer
check -m "both daemons up" wait_for 10 both_up
check -m "the analyzer applied the agent's inventory" wait_for 10 applied

check -m "t2vm2 talks" vm_ping t2vm2 10.0.0.21 2
check -m "t2vm2's binding learned and saved in Redis" wait_for 15 learned_t2vm2
check -m "the learning is logged" wait_for 5 \
    grep -q 'port t2vm2 of host .*: learned address 10.0.0.22' \
    "$VNM_LAB_DIR/log/analyzer.log"

# A restarted analyzer restores it.
stop_daemon analyzer
start_analyzer
check -m "analyzer restarted" wait_for 10 both_up
check -m "the restarted analyzer restored the learned bindings" wait_for 10 \
    grep -q "1 ports' learned bindings restored" "$VNM_LAB_DIR/log/analyzer.log"
check -m "still one binding, unchanged" learned_t2vm2
stop_daemon analyzer

# A bad inventory file: refused with file, line and key.
printf '[port "t1vm1"]\nips = 10.0.0.300\n' >"$inventory"
out=$(vnmon-analyzer --config "$VNM_LAB_DIR/etc/analyzer.conf" --check-config 2>&1) \
    && fail "a bad inventory file was accepted"
check -m "the error names the file, line and key: $out" \
    grep -q "inventory.conf:2: ips" <<<"$out"

stop_daemon agent
lab_down
