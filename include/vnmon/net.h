/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtual network as detectors see it (ABI 1.1): every port of every
 * hypervisor with its VM, tenant, the addresses it may send from, its VLAN
 * and tunnel configuration; and the isolation policy.  The analyzer builds
 * it (analyzer/tenancy.c) from the agents' inventories in Redis, the
 * optional inventory file and what it learns, and lends it to plugins
 * through the 'net' member of 'struct vnm_host' (plugin.h).
 *
 * Everything returned is borrowed: valid until the calling callback
 * returns.  A plugin copies what it keeps.
 */
#ifndef VNM_NET_H
#define VNM_NET_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnmon/flow.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vnm_host;

/* What a port is. */
enum vnm_port_kind {
    VNM_PORT_UNKNOWN = 0,       /* Not in any inventory. */
    VNM_PORT_VM,                /* A VM's: has an iface-id, vm or tenant. */
    VNM_PORT_INTERNAL,          /* OVS "internal": the host's own stack. */
    VNM_PORT_TUNNEL,            /* vxlan, geneve, gre, stt... */
    VNM_PORT_PATCH,             /* OVS patch port. */
    VNM_PORT_UPLINK,            /* Any other netdev: physical NIC, bond. */
};

/* An address with a prefix length (32 or 128 for a single address). */
struct vnm_prefix {
    struct vnm_addr addr;
    uint8_t len;
};

/* Where a port's address binding comes from. */
enum vnm_binding_source {
    VNM_BINDING_NONE = 0,       /* None yet: still learning, or learning off.
                                 * Spoofing detectors ignore the port. */
    VNM_BINDING_DECLARED,       /* OVSDB external_ids or the inventory
                                 * file. */
    VNM_BINDING_LEARNED,        /* Learned from the port's first ARP, DHCP or
                                 * IP traffic, then locked. */
};

/* One port of one hypervisor.  Strings are "" when unknown, never null. */
struct vnm_port {
    const char *host_id;        /* Hypervisor. */
    const char *name;           /* OVS interface name. */
    const char *bridge;
    int32_t ofport;             /* -1 if unknown. */
    enum vnm_port_kind kind;
    const char *iface_id;       /* external_ids:iface-id. */
    const char *vm;             /* external_ids:vm-uuid / vm-id. */
    const char *tenant;         /* external_ids:vnmon-tenant, or the
                                 * inventory file's. */

    /* Addresses the port may send from. */
    enum vnm_binding_source mac_source, ip_source;
    uint32_t n_macs;
    const uint8_t (*macs)[6];
    uint32_t n_ips;
    const struct vnm_prefix *ips;

    /* VLAN configuration of its OVS Port. */
    const char *vlan_mode;      /* "" (OVS's default), "access", "trunk",
                                 * "native-tagged", "native-untagged",
                                 * "dot1q-tunnel". */
    int32_t tag;                /* Access/native VLAN, -1 if none. */
    uint32_t n_trunks;          /* 0: all VLANs (if trunking at all). */
    const uint16_t *trunks;

    /* Tunnel ports (kind VNM_PORT_TUNNEL). */
    const char *tunnel_type;    /* "vxlan", "geneve", "gre"... */
    bool has_vni;               /* 'vni' is a number (not "flow"). */
    uint32_t vni;               /* options:key. */
    struct vnm_addr remote_ip;  /* options:remote_ip, family 0 if "flow". */
    struct vnm_addr local_ip;   /* options:local_ip, family 0 if none. */

    /* Life.  A port that leaves its host's inventory is left out of
     * ports() (port() still finds it, for late flow records); when it
     * comes back, 'restarts' grows. */
    uint64_t first_seen_ms;     /* When the analyzer first saw it; 0 if it
                                 * was in the first inventory the analyzer
                                 * read of its host (or only in the
                                 * inventory file). */
    uint64_t restarts;          /* Times it came back (new ifindex, ofport or
                                 * Interface row, or back after leaving)
                                 * since the analyzer first saw it. */
    uint64_t changed_ms;        /* Last such restart, or first_seen_ms. */
};

/* The network view's services, in 'struct vnm_host' (member 'net').  The
 * first argument is the plugin's host table.  'host_id' names a hypervisor
 * (a flow's is flow->host).  Null functions are never lent: the analyzer
 * fills them all. */
struct vnm_net_ops {
    /* Port 'name' of 'host_id', or null if unknown. */
    const struct vnm_port *(*port)(const struct vnm_host *host, const char *host_id,
                                   const char *name);
    /* The VM port of 'host_id' whose binding holds 'ip' (or, with
     * 'host_id' null, of any host); null if none. */
    const struct vnm_port *(*port_by_ip)(const struct vnm_host *host,
                                         const char *host_id,
                                         const struct vnm_addr *ip);
    /* The VM port of 'host_id' (or any host if null) bound to MAC 'mac';
     * null if none. */
    const struct vnm_port *(*port_by_mac)(const struct vnm_host *host,
                                          const char *host_id,
                                          const uint8_t mac[6]);
    /* All ports of 'host_id' (or of every host if null) into '*portsp';
     * returns how many. */
    size_t (*ports)(const struct vnm_host *host, const char *host_id,
                    const struct vnm_port *const **portsp);

    /* Policy ([policy] of the analyzer, doc/alerts.md). */
    /* The name of the protected network ("host", "management"...) that
     * holds 'ip', or null if none does. */
    const char *(*protected_net)(const struct vnm_host *host,
                                 const struct vnm_addr *ip);
    /* True if a VM may use this host service: IP protocol 'ip_proto', port
     * 'port' at address 'ip' (DHCP, DNS, metadata...). */
    bool (*host_service)(const struct vnm_host *host, const struct vnm_addr *ip,
                         uint8_t ip_proto, uint16_t port);
    /* True if tenant 'from' may open flows to tenant 'to' with 'ip_proto'
     * to 'port' (same tenant: always). */
    bool (*tenants_allowed)(const struct vnm_host *host, const char *from,
                            const char *to, uint8_t ip_proto,
                            uint16_t port);
    /* True if 'port' may send from 'mac' / 'ip' (its binding holds it, or
     * it has none yet). */
    bool (*mac_allowed)(const struct vnm_host *host, const struct vnm_port *port,
                        const uint8_t mac[6]);
    bool (*ip_allowed)(const struct vnm_host *host, const struct vnm_port *port,
                       const struct vnm_addr *ip);
};

#ifdef __cplusplus
}
#endif

#endif /* net.h */
