/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AF_PACKET TPACKET_V3 capture rings: the raw material of both taps
 * (tap-netdev.c, tap-flow.c).
 *
 * A ring is one AF_PACKET socket with a memory-mapped TPACKET_V3 receive
 * ring, bound to one interface or to all (ifindex 0), with a classic BPF
 * filter that accepts only received frames (not outgoing ones: the filter
 * checks, because PACKET_IGNORE_OUTGOING does not apply to fanout groups
 * before Linux 6.8) whose interface index is in a given set (an empty set
 * drops everything).  Rings
 * of the worker threads of one tap share a fanout group (PACKET_FANOUT_HASH,
 * optionally with PACKET_FANOUT_FLAG_DEFRAG), so that both directions of a
 * flow reach the same worker: the kernel's fanout hash is symmetric.
 *
 * The kernel strips the outermost VLAN tag of a received frame into
 * metadata; a ring reports it (struct tap_frame's 'vlan_*') and, if asked,
 * puts it back into the frame so that callers see the full tag stack inline.
 *
 * A "ring group" is a tap's set of rings, one per worker thread: the main
 * thread creates, (re)binds and filters them; each worker polls its own.
 * Rebinding replaces every ring by a new one in a new fanout group (a socket
 * in a fanout group cannot be rebound); each worker adopts its new ring at
 * its next poll, without a lock, and the main thread closes the old ones
 * once no worker uses them.
 *
 * Creating a ring needs CAP_NET_RAW.
 */
#ifndef VNM_TAP_RING_H
#define VNM_TAP_RING_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sock_filter;

/* One capture ring (opaque). */
struct tap_ring;
/* A tap's rings, one per worker thread (opaque). */
struct tap_ring_group;

/* A received frame, valid only during the callback that gets it. */
struct tap_frame {
    /* The frame, from its destination MAC on.  With reinsertion (see
     * struct tap_ring_config), it holds the kernel-stripped tag too. */
    const uint8_t *data;
    /* Bytes at 'data'. */
    uint32_t caplen;
    /* Bytes of the frame as received, stripped tag included if 'data'
     * holds it (>= 'caplen'). */
    uint32_t wire_len;
    /* Kernel receive time, nanoseconds since the epoch. */
    uint64_t ts_ns;
    /* Interface the frame was received on. */
    int32_t ifindex;
    /* True if the kernel stripped an outer VLAN tag into metadata: then
     * 'vlan_tpid' and 'vlan_tci' hold it. */
    bool vlan_valid;
    /* True if that tag was put back into 'data'. */
    bool vlan_inline;
    /* The stripped tag's TPID (0x8100 when the kernel does not say). */
    uint16_t vlan_tpid;
    /* The stripped tag's TCI (PCP, DEI, VID). */
    uint16_t vlan_tci;
};

/* Called once per received frame.  'frame' is valid only during the call. */
typedef void tap_frame_func(void *aux, const struct tap_frame *frame);

/* struct tap_ring_config's 'fanout_group': no fanout group. */
#define TAP_RING_NO_FANOUT (-1)
/* struct tap_ring_config's 'fanout_group': a new group whose id the kernel
 * chooses, unique in the network namespace (tap_ring_get_fanout_group()
 * then tells it, for other rings to join). */
#define TAP_RING_NEW_FANOUT (-2)

/* How to build a ring.  tap_ring_config_init() sets the defaults. */
struct tap_ring_config {
    /* Bytes per ring block: a multiple of the page size, at least
     * 'snaplen' plus headers.  Default 1 MiB. */
    uint32_t block_size;
    /* Blocks in the ring.  Default 8. */
    uint32_t n_blocks;
    /* The kernel's nominal frame size (TPACKET_V3 packs frames of any size
     * into blocks; this only sizes the frame count).  Default 2048. */
    uint32_t frame_size_hint;
    /* A block that has frames is handed over after at most this many
     * milliseconds even if not full.  Default 10. */
    uint32_t block_timeout_ms;
    /* Bytes kept of each frame.  Default 65535. */
    uint32_t snaplen;
    /* TAP_RING_NO_FANOUT, TAP_RING_NEW_FANOUT, or the id (0...65535) of a
     * fanout group to join (or create).  Default TAP_RING_NO_FANOUT. */
    int32_t fanout_group;
    /* With a fanout group: the kernel reassembles IP fragments before
     * choosing a ring (PACKET_FANOUT_FLAG_DEFRAG).  Default true. */
    bool fanout_defrag;
    /* Put a kernel-stripped VLAN tag back into each frame (in a scratch
     * buffer of the ring), so that 'data' holds the full tag stack.
     * Default false. */
    bool reinsert_vlan;
};

/* Capture counters of a ring, cumulated since it was created. */
struct tap_ring_stats {
    /* Frames passed to callbacks. */
    uint64_t packets;
    /* Frames the kernel accepted for this socket (PACKET_STATISTICS
     * tp_packets, which includes 'drops'). */
    uint64_t kernel_packets;
    /* Frames the kernel dropped because the ring was full (tp_drops). */
    uint64_t drops;
    /* Times the ring froze its queue for lack of a free block
     * (tp_freeze_q_cnt). */
    uint64_t freeze_q_cnt;
};

/* Sets 'config' to the defaults. */
void tap_ring_config_init(struct tap_ring_config *config);

/* Checks 'config'.  Returns 0 or EINVAL. */
int tap_ring_config_check(const struct tap_ring_config *config);

/* Creates a ring as 'config' says, bound to interface 'ifindex' (0: all
 * interfaces of the network namespace).  Its filter accepts 'ifindex' alone
 * if nonzero, else nothing until tap_ring_set_ifindexes().  Stores the ring
 * in '*ringp' and returns 0, or returns a positive errno value (EPERM
 * without CAP_NET_RAW; ENETDOWN if the interface is down) and stores NULL. */
int tap_ring_create(const struct tap_ring_config *config, int ifindex,
                    struct tap_ring **ringp);

/* Replaces the filter of 'ring' atomically: from now on it accepts only
 * frames received on one of the 'n' interfaces in 'ifindexes' (none if 'n'
 * is 0).  Safe to call from another thread while the owner polls.  Returns
 * 0 or a positive errno value (E2BIG: too many interfaces for one
 * program). */
int tap_ring_set_ifindexes(struct tap_ring *ring, const int *ifindexes,
                           size_t n);

/* Waits up to 'timeout_ms' (negative: forever) for frames, then calls 'cb'
 * with 'aux' for each frame of every ready block and hands the blocks back
 * to the kernel.  Returns the number of frames (possibly 0), or a negative
 * errno value for an error that the socket reported (e.g. -ENETDOWN when its
 * interface went down; the error is then cleared).  One thread at a
 * time. */
int tap_ring_poll(struct tap_ring *ring, int timeout_ms, tap_frame_func *cb,
                  void *aux);

/* Binds 'ring' to 'ifindex' instead (0: all) on a new socket, with the
 * same filter, ring geometry and fanout settings; a ring that created its
 * fanout group (TAP_RING_NEW_FANOUT) creates a new one.  Frames still in
 * the old ring are lost.  Not while another thread polls 'ring'.  Returns 0
 * or a positive errno value (then 'ring' has no socket until a successful
 * rebind, and polling it just sleeps, 100 ms if asked to wait forever). */
int tap_ring_rebind(struct tap_ring *ring, int ifindex);

/* The interface 'ring' is bound to (0: all), or -1 if it has no socket. */
int tap_ring_get_ifindex(const struct tap_ring *ring);

/* The id of the fanout group of 'ring', or -1 if none. */
int tap_ring_get_fanout_group(const struct tap_ring *ring);

/* Stores the counters of 'ring' in '*stats', after adding the kernel's
 * counters since the previous call.  Safe to call from another thread while
 * the owner polls. */
void tap_ring_get_stats(struct tap_ring *ring, struct tap_ring_stats *stats);

/* Closes 'ring' and frees it.  Accepts NULL. */
void tap_ring_destroy(struct tap_ring *ring);

/* Builds the classic BPF program of tap_ring_set_ifindexes(): it accepts
 * ('snaplen' bytes of) frames received (not outgoing) on one of the 'n'
 * interfaces in 'ifindexes' (duplicates allowed; in any order) and drops the
 * others, in O(log n) comparisons.  Stores the malloc'd program in
 * '*insnsp' (the caller frees it) and its length in '*n_insnsp'.  Returns 0,
 * or E2BIG if the program would exceed the kernel's limit (over 2000
 * interfaces). */
int tap_ring_build_filter(const int *ifindexes, size_t n, uint32_t snaplen,
                          struct sock_filter **insnsp, size_t *n_insnsp);

/* Creates a group of 'n_workers' rings as 'config' says (its fanout_group
 * is ignored: each binding creates a group of its own when 'n_workers' > 1),
 * unbound: tap_ring_group_bind() creates the rings.  Returns 0 and stores
 * the group in '*groupp', or returns EINVAL. */
int tap_ring_group_create(const struct tap_ring_config *config,
                          size_t n_workers, struct tap_ring_group **groupp);

/* Creates new rings bound to 'ifindex' (0: all), with the current filter,
 * and hands one to each worker, which adopts it at its next poll.  Main
 * thread.  Returns 0 or a positive errno value (then the workers keep
 * their rings). */
int tap_ring_group_bind(struct tap_ring_group *group, int ifindex);

/* The 'ifindex' of the last successful tap_ring_group_bind(), or -1. */
int tap_ring_group_get_ifindex(const struct tap_ring_group *group);

/* Sets the filter of every ring of 'group', present and future, as
 * tap_ring_set_ifindexes() does.  Main thread.  Returns 0 or a positive
 * errno value. */
int tap_ring_group_set_ifindexes(struct tap_ring_group *group,
                                 const int *ifindexes, size_t n);

/* Polls the ring of worker 'worker' as tap_ring_poll() does, after
 * adopting a new ring if the main thread bound the group again; without a
 * ring yet, sleeps and returns 0.  Waits at most 200 ms whatever
 * 'timeout_ms' says (negative: forever), so that a new ring is adopted
 * promptly.  Only the thread of 'worker' calls this for 'worker'. */
int tap_ring_group_poll(struct tap_ring_group *group, size_t worker,
                        int timeout_ms, tap_frame_func *cb, void *aux);

/* Stores in '*stats' the counters of worker 'worker', over all of its rings
 * so far.  Main thread. */
void tap_ring_group_get_stats(struct tap_ring_group *group, size_t worker,
                              struct tap_ring_stats *stats);

/* Closes every ring of 'group' and frees it.  Only once the workers no
 * longer poll.  Accepts NULL. */
void tap_ring_group_destroy(struct tap_ring_group *group);

#endif /* tap-ring.h */
