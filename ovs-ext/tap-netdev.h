/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The netdev tap (DESIGN.md section 3): AF_PACKET capture on the VM-facing
 * kernel netdevs (veth, tap) of OVS bridges, ingress only, so that each
 * frame comes with the interface it entered on, i.e. its exact ingress port,
 * even when its MAC and IP addresses are forged; it also sees frames that
 * OVS drops later (a wrong VLAN on an access port).  OVS is not touched.
 *
 * One tap has one ring per worker thread (tap-ring.h), all bound to every
 * interface of the network namespace, in one fanout group, filtered in the
 * kernel to exactly the interfaces of the current port set: ports come and
 * go with tap_netdev_set_ports(), without rebinding.  One tap can serve the
 * ports of several bridges.
 *
 * Threads: the main thread creates the tap, sets its ports, reads its
 * counters and destroys it; worker thread 'i' (0 <= i < n_workers) calls
 * tap_netdev_poll(tap, i, ...).  The per-packet path takes no lock: the
 * port set is an immutable snapshot that workers read and the main thread
 * replaces, freeing old ones once no worker can hold them; per-port
 * counters are per worker, summed by the main thread.
 *
 * This header also holds what the flow tap (tap-flow.h) shares with this
 * one: struct tap_port, the counters, the frame callback, and the port map.
 */
#ifndef VNM_TAP_NETDEV_H
#define VNM_TAP_NETDEV_H 1

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ovs-ext/tap-ring.h"

/* A netdev tap (opaque). */
struct tap_netdev;
/* A port map (opaque). */
struct tap_portmap;

/* Most ports a tap follows: port indexes are 1...TAP_MAX_PORTS (the flow tap
 * carries the index as a VLAN id). */
#define TAP_MAX_PORTS 4094

/* A port to capture, as the caller (the OVSDB inventory) knows it. */
struct tap_port {
    /* Interface name, null-terminated. */
    char name[16];
    /* Kernel interface index in the agent's network namespace, 0 if the
     * port has no kernel netdev (e.g. DPDK vhost-user). */
    int ifindex;
    /* OpenFlow port number, 0 if unknown. */
    int ofport;
    /* The bridge the port belongs to, null-terminated. */
    char bridge[16];
};

/* Counters of one port, since it joined the tap's port set. */
struct tap_port_stats {
    /* The port, as last set. */
    struct tap_port port;
    /* Its index in the tap (1...TAP_MAX_PORTS). */
    uint16_t idx;
    /* Frames received from the port, and their bytes on the wire. */
    uint64_t packets;
    uint64_t bytes;
};

/* Counters of a tap, since it was created. */
struct tap_stats {
    /* Frames delivered to callbacks (all ports), and their bytes. */
    uint64_t packets;
    uint64_t bytes;
    /* Frames that reached the kernel rings, drops included. */
    uint64_t ring_packets;
    /* Frames the kernel dropped for want of ring space, over all
     * workers. */
    uint64_t ring_drops;
    /* Times a ring froze its queue (kernel tp_freeze_q_cnt). */
    uint64_t ring_freeze_q_cnt;
    /* Frames dropped because no port of the set matched them (a port just
     * removed). */
    uint64_t n_unknown;
    /* Flow tap only: frames on the monitor port without the tap's tag
     * (flooded to it, or sent by someone else), dropped. */
    uint64_t n_untagged;
    /* Ports in the set. */
    size_t n_ports;
};

/* The frame counters of one worker of a tap, written by that worker only
 * (so updated with a relaxed load and store, tap_counter_add()) and read
 * by the main thread. */
struct tap_counters {
    atomic_uint_least64_t packets;    /* Frames delivered. */
    atomic_uint_least64_t bytes;      /* Their bytes on the wire. */
    atomic_uint_least64_t n_unknown;  /* Frames of no port of the set. */
    atomic_uint_least64_t n_untagged; /* Flow tap: frames without its tag. */
};

/* Zeroes 'c'. */
void tap_counters_init(struct tap_counters *c);

/* Adds 'n' to counter 'c' (its worker's thread only). */
static inline void
tap_counter_add(atomic_uint_least64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed)
                          + n, memory_order_relaxed);
}

/* Adds worker 'i''s counters 'c' and the statistics of its ring in 'rings'
 * to '*stats'.  Main thread. */
void tap_stats_add_worker(struct tap_stats *stats,
                          const struct tap_counters *c,
                          struct tap_ring_group *rings, size_t i);

/* Called by a worker's poll for each frame: 'frame' as received (for the
 * flow tap, as the VM sent it, with frame->ifindex = port->ifindex), and
 * 'port' the port it entered on.  Both are valid only during the call. */
typedef void tap_port_frame_func(void *aux, const struct tap_frame *frame,
                                 const struct tap_port *port);

/* How to build a netdev tap.  tap_netdev_config_init() sets defaults. */
struct tap_netdev_config {
    /* Worker threads, each with its own ring.  Default 1. */
    size_t n_workers;
    /* The rings.  Default: tap_ring_config_init()'s, with reinsert_vlan
     * (callers see the full tag stack); 'fanout_group' is ignored. */
    struct tap_ring_config ring;
};

/* Sets 'config' to the defaults. */
void tap_netdev_config_init(struct tap_netdev_config *config);

/* Creates a netdev tap with an empty port set (it captures nothing until
 * tap_netdev_set_ports()).  Stores it in '*tapp' and returns 0, or returns
 * a positive errno value (EPERM without CAP_NET_RAW) and stores NULL. */
int tap_netdev_create(const struct tap_netdev_config *config,
                      struct tap_netdev **tapp);

/* Makes the 'n' 'ports' the tap's port set: from now on it captures
 * exactly the frames received on their interfaces.  Ports are identified by
 * ifindex; one that stays keeps its counters.  Ports without an ifindex are
 * skipped.  Main thread.  Returns 0, ENOSPC if some ports were left out
 * (more than TAP_MAX_PORTS; the others are set), or another positive errno
 * value (the previous set then stays in the kernel filter). */
int tap_netdev_set_ports(struct tap_netdev *tap, const struct tap_port *ports,
                         size_t n);

/* Worker 'worker' waits up to 'timeout_ms' (at most 200 ms) for frames and
 * calls 'cb' with 'aux' for each.  Returns the number of frames, or a
 * negative errno value (see tap_ring_poll()). */
int tap_netdev_poll(struct tap_netdev *tap, size_t worker, int timeout_ms,
                    tap_port_frame_func *cb, void *aux);

/* Stores the tap's counters in '*stats'.  Main thread. */
void tap_netdev_get_stats(struct tap_netdev *tap, struct tap_stats *stats);

/* Stores in '*statsp' a malloc'd array (the caller frees it) with the
 * counters of each port of the set, in port index order, and returns its
 * length.  Main thread. */
size_t tap_netdev_get_port_stats(struct tap_netdev *tap,
                                 struct tap_port_stats **statsp);

/* Closes and frees 'tap', once no worker polls it.  Accepts NULL. */
void tap_netdev_destroy(struct tap_netdev *tap);

/* ----------------------------------------------------------------------
 * Port map, shared with the flow tap: a port set with a stable small index
 * per port, readable by workers without a lock, with per-worker per-port
 * counters.  The main thread calls everything but tap_portmap_enter(),
 * tap_portmap_exit(), tap_portmap_find_*() and tap_portmap_count(), which
 * worker 'worker' calls between its own enter and exit. */

/* What identifies a port in a map. */
enum tap_port_key {
    TAP_PORT_KEY_IFINDEX,       /* struct tap_port's 'ifindex'. */
    TAP_PORT_KEY_OFPORT         /* struct tap_port's 'ofport'. */
};

/* An immutable version of a port set. */
struct tap_portmap_snap;

/* Returns a new, empty map for 'n_workers' workers, ports keyed by 'key'. */
struct tap_portmap *tap_portmap_create(size_t n_workers,
                                       enum tap_port_key key);

/* Frees 'map', once no worker uses it.  Accepts NULL. */
void tap_portmap_destroy(struct tap_portmap *map);

/* Makes the 'n' 'ports' the set of 'map'.  A port whose key was in the set
 * keeps its index and counters; a new one gets a free index, the least
 * recently freed first.  Ports whose key is not positive and repeated keys
 * (the first counts) are skipped.  Returns the number of ports left out for
 * want of a free index (beyond TAP_MAX_PORTS). */
size_t tap_portmap_set(struct tap_portmap *map, const struct tap_port *ports,
                       size_t n);

/* The number of ports in the set of 'map'. */
size_t tap_portmap_n_ports(const struct tap_portmap *map);

/* Port 'i' (0 <= i < tap_portmap_n_ports()) of the set of 'map', and its
 * index in '*idx'.  Valid until the next tap_portmap_set(). */
const struct tap_port *tap_portmap_get_port(const struct tap_portmap *map,
                                            size_t i, uint16_t *idx);

/* Worker 'worker' starts reading: returns the current set, valid until
 * tap_portmap_exit(). */
const struct tap_portmap_snap *tap_portmap_enter(struct tap_portmap *map,
                                                 size_t worker);

/* Worker 'worker' no longer uses the set tap_portmap_enter() returned. */
void tap_portmap_exit(struct tap_portmap *map, size_t worker);

/* The port with key 'key' in 'snap' (and its index in '*idx'), or NULL. */
const struct tap_port *tap_portmap_find_key(
    const struct tap_portmap_snap *snap, int key, uint16_t *idx);

/* The port with index 'idx' in 'snap', or NULL. */
const struct tap_port *tap_portmap_find_idx(
    const struct tap_portmap_snap *snap, uint16_t idx);

/* Worker 'worker' counts a frame of 'bytes' for the port of index 'idx'. */
void tap_portmap_count(struct tap_portmap *map, size_t worker, uint16_t idx,
                       uint32_t bytes);

/* Stores in '*statsp' a malloc'd array (the caller frees it) with the
 * counters of each port of the set, in index order, and returns its
 * length. */
size_t tap_portmap_get_stats(struct tap_portmap *map,
                             struct tap_port_stats **statsp);

#endif /* tap-netdev.h */
