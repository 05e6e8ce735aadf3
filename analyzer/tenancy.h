/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tenancy and policy: the analyzer's view of the virtual network (see
 * include/vnmon/net.h, which is how detectors see it).
 *
 * Sources, merged per (host, port name):
 *   - the agents' inventories in Redis (vnm:{HOST}:inventory, written by
 *     ovs-ext/inventory.c): kind, VM, iface-id, tenant (vnmon-tenant), the
 *     declared IPs (vnmon-ips) and MAC (attached-mac), VLAN and tunnel
 *     configuration;
 *   - the optional inventory file ([tenancy] inventory = PATH), whose
 *     [port "NAME"] sections declare or override the same (see
 *     doc/alerts.md, "Tenancy");
 *   - learning ([tenancy] learn = first): a VM port with no declared IPv4
 *     (IPv6, MAC) binding gets the first one it uses (ARP sender, DHCP
 *     client, or IP source of a flow it starts), and keeps it ("locked").
 *     Learned bindings are kept in Redis (vnm:{HOST}:bindings) so that a
 *     restarted analyzer does not learn a forged address.
 * And the isolation policy: [protected "NAME"] sections (prefixes and the
 * host services VMs may use there) and [allow "NAME"] sections (tenant
 * pairs and services allowed across tenants).
 *
 * One tenancy per process: tenancy_net_ops() binds the returned table to
 * it.  Single-threaded.
 */
#ifndef VNM_TENANCY_H
#define VNM_TENANCY_H 1

#include <stdbool.h>
#include <stdint.h>

#include "lib/util.h"
#include "vnmon/net.h"

struct json_t;
struct vnm_config;

struct tenancy *tenancy_create(void);
void tenancy_destroy(struct tenancy *);

/* Reads [tenancy], [policy], [protected "NAME"] and [allow "NAME"] of
 * 'config', and the inventory file if one is named.  Returns NULL or a
 * malloc'd error naming file, line and key. */
char *tenancy_configure(struct tenancy *, const struct vnm_config *config)
    VNM_WARN_UNUSED;

/* Parses inventory file text 'text' (named 'file_name' in errors) into
 * 't', replacing what an earlier file declared.  Returns NULL or a malloc'd
 * error. */
char *tenancy_load_inventory(struct tenancy *, const char *file_name,
                             const char *text) VNM_WARN_UNUSED;

/* Applies the inventory snapshot 'snapshot' (doc/redis-keys.md) of host
 * 'host_id', seen at 'now_ms': ports appear, change, restart or go. */
void tenancy_update_inventory(struct tenancy *, const char *host_id,
                              const struct json_t *snapshot, uint64_t now_ms);

/* Learns from 'flow' (before the detectors see it), if learning is on.
 * Returns true if it learned a binding (the caller then saves them). */
bool tenancy_learn(struct tenancy *, const struct vnm_flow *flow,
                   uint64_t now_ms);

/* The learned bindings of 'host_id' as a JSON object {port: {"macs": [],
 * "ips": []}} (new reference); and back, on start. */
struct json_t *tenancy_learned_to_json(const struct tenancy *,
                                       const char *host_id);
void tenancy_learned_from_json(struct tenancy *, const char *host_id,
                               const struct json_t *learned);

/* Hosts known (from inventories or the file). */
size_t tenancy_n_hosts(const struct tenancy *);
const char *tenancy_host(const struct tenancy *, size_t i);

/* The services of 'struct vnm_net_ops' (net.h) on 't', which becomes the
 * process's tenancy. */
const struct vnm_net_ops *tenancy_net_ops(struct tenancy *t);

#endif /* tenancy.h */
