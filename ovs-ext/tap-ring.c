/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AF_PACKET TPACKET_V3 rings and ring groups: see tap-ring.h.
 *
 * A socket is set up so that no frame escapes the filter: created with
 * protocol 0 (receives nothing), filtered, ring mapped, then bound, then
 * joined to its fanout group (which needs a bound, running socket).
 */
#include <config.h>

#include "ovs-ext/tap-ring.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

VNM_LOG_MODULE(tap_ring);

/* Linux 6.8's flag, for older headers. */
#ifndef PACKET_FANOUT_FLAG_IGNORE_OUTGOING
#define PACKET_FANOUT_FLAG_IGNORE_OUTGOING 0x4000
#endif

/* The kernel aligns TPACKET_V3 frames in a block to 8 bytes (its
 * V3_ALIGNMENT, not exported). */
#define V3_ALIGNMENT 8

/* Without a socket to wait on, a poll "forever" sleeps this long, so that
 * the caller comes back for a new ring. */
#define NO_RING_SLEEP_MS 100

/* A worker of a group comes back from a poll at least this often, to adopt
 * a new ring. */
#define GROUP_MAX_WAIT_MS 200

/* Most comparisons in a leaf of the filter's search tree. */
#define FILTER_LEAF 4

struct tap_ring {
    struct tap_ring_config config;
    int fd;                     /* -1 if none. */
    int ifindex;                /* Bound to this (0: all), -1 if no fd. */
    int fanout_id;              /* -1 if none. */
    uint8_t *map;               /* The mmap'd ring, 'map_size' bytes. */
    size_t map_size;
    uint32_t cur;               /* Next block to read. */
    uint8_t *scratch;           /* For VLAN reinsertion, block_size + 4. */

    /* The filter, kept for rebinding.  Protected by 'mutex'. */
    struct sock_filter *filter;
    size_t n_filter;

    atomic_uint_least64_t packets; /* Written by the polling thread. */

    pthread_mutex_t mutex;      /* Protects what follows, and 'filter'. */
    uint64_t kernel_packets;
    uint64_t drops;
    uint64_t freeze_q_cnt;
};

void
tap_ring_config_init(struct tap_ring_config *config)
{
    memset(config, 0, sizeof *config);
    config->block_size = 1u << 20;
    config->n_blocks = 8;
    config->frame_size_hint = 2048;
    config->block_timeout_ms = 10;
    config->snaplen = 65535;
    config->fanout_group = TAP_RING_NO_FANOUT;
    config->fanout_defrag = true;
    config->reinsert_vlan = false;
}

int
tap_ring_config_check(const struct tap_ring_config *c)
{
    long page = sysconf(_SC_PAGESIZE);

    if (page <= 0 || c->block_size == 0 || c->block_size % page
        || c->block_size > (1u << 30) || c->n_blocks == 0
        || c->n_blocks > 65536
        || (uint64_t) c->block_size * c->n_blocks > (1ull << 32)
        || c->frame_size_hint < TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
        || c->frame_size_hint % TPACKET_ALIGNMENT
        || c->frame_size_hint > c->block_size
        || c->snaplen < 64
        || c->block_timeout_ms == 0 || c->block_timeout_ms > 60000
        || c->fanout_group < TAP_RING_NEW_FANOUT
        || c->fanout_group > 65535) {
        return EINVAL;
    }
    return 0;
}

/* ------------------------------------------------------------ filter */

static int
compare_u32(const void *a_, const void *b_)
{
    uint32_t a = *(const uint32_t *) a_;
    uint32_t b = *(const uint32_t *) b_;

    return a < b ? -1 : a > b;
}

/* Instructions of the search (sub)tree over 'n' sorted keys. */
static size_t
filter_tree_size(size_t n)
{
    size_t n_left, left;

    if (n <= FILTER_LEAF) {
        return n + 2;
    }
    n_left = n / 2;
    left = filter_tree_size(n_left);
    return 1 + (left > 255) + left + filter_tree_size(n - n_left);
}

/* Emits the search tree over sorted, distinct 'keys[0...n-1]' at 'insns',
 * with the interface index in the accumulator.  Returns the instructions
 * emitted.  Every leaf ends with its own "drop" and "accept" returns, so
 * that every conditional jump is short; a left subtree longer than 255
 * instructions is jumped over with "ja". */
static size_t
filter_tree_emit(const uint32_t *keys, size_t n, uint32_t snaplen,
                 struct sock_filter *insns)
{
    size_t n_left, left, i = 0;

    if (n <= FILTER_LEAF) {
        for (i = 0; i < n; i++) {
            insns[i] = (struct sock_filter) BPF_JUMP(
                BPF_JMP | BPF_JEQ | BPF_K, keys[i], n - i, 0);
        }
        insns[n] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, 0);
        insns[n + 1] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K,
                                                     snaplen);
        return n + 2;
    }

    /* Keys greater than keys[n_left - 1] are in the right subtree. */
    n_left = n / 2;
    left = filter_tree_size(n_left);
    if (left > 255) {
        insns[i++] = (struct sock_filter) BPF_JUMP(
            BPF_JMP | BPF_JGT | BPF_K, keys[n_left - 1], 0, 1);
        insns[i++] = (struct sock_filter) BPF_STMT(BPF_JMP | BPF_JA, left);
    } else {
        insns[i++] = (struct sock_filter) BPF_JUMP(
            BPF_JMP | BPF_JGT | BPF_K, keys[n_left - 1], left, 0);
    }
    i += filter_tree_emit(keys, n_left, snaplen, &insns[i]);
    i += filter_tree_emit(&keys[n_left], n - n_left, snaplen, &insns[i]);
    return i;
}

int
tap_ring_build_filter(const int *ifindexes, size_t n, uint32_t snaplen,
                      struct sock_filter **insnsp, size_t *n_insnsp)
{
    struct sock_filter *insns;
    uint32_t *keys;
    size_t n_keys = 0, size, i;

    *insnsp = NULL;
    *n_insnsp = 0;
    if (n > BPF_MAXINSNS) {
        return E2BIG;
    }

    keys = xcalloc(n ? n : 1, sizeof *keys);
    for (i = 0; i < n; i++) {
        if (ifindexes[i] > 0) {
            keys[n_keys++] = ifindexes[i];
        }
    }
    qsort(keys, n_keys, sizeof *keys, compare_u32);
    for (i = 1, n = n_keys ? 1 : 0; i < n_keys; i++) {
        if (keys[i] != keys[n - 1]) {
            keys[n++] = keys[i];
        }
    }
    n_keys = n;

    if (!n_keys) {
        insns = xmalloc(sizeof *insns);
        insns[0] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, 0);
        size = 1;
    } else {
        /* Outgoing frames first: in a fanout group, PACKET_IGNORE_OUTGOING
         * does not apply (the group's own hook receives them), and
         * PACKET_FANOUT_FLAG_IGNORE_OUTGOING needs Linux 6.8. */
        size = 4 + filter_tree_size(n_keys);
        if (size > BPF_MAXINSNS) {
            free(keys);
            return E2BIG;
        }
        insns = xcalloc(size, sizeof *insns);
        insns[0] = (struct sock_filter) BPF_STMT(
            BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE);
        insns[1] = (struct sock_filter) BPF_JUMP(
            BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1);
        insns[2] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, 0);
        insns[3] = (struct sock_filter) BPF_STMT(
            BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_IFINDEX);
        filter_tree_emit(keys, n_keys, snaplen, &insns[4]);
    }
    free(keys);
    *insnsp = insns;
    *n_insnsp = size;
    return 0;
}

/* Attaches 'insns' to 'fd' (replacing any filter atomically). */
static int
attach_filter(int fd, struct sock_filter *insns, size_t n)
{
    struct sock_fprog prog = { .len = n, .filter = insns };

    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog)
           ? errno : 0;
}

/* -------------------------------------------------------------- ring */

static void
ring_close(struct tap_ring *ring)
{
    if (ring->map) {
        munmap(ring->map, ring->map_size);
        ring->map = NULL;
    }
    if (ring->fd >= 0) {
        close(ring->fd);
        ring->fd = -1;
    }
    ring->ifindex = -1;
    ring->fanout_id = -1;
    ring->cur = 0;
}

static int
setsockopt_int(int fd, int level, int name, int value)
{
    return setsockopt(fd, level, name, &value, sizeof value) ? errno : 0;
}

/* Joins or creates the fanout group that 'ring->config' names. */
static int
ring_join_fanout(struct tap_ring *ring)
{
    int32_t group = ring->config.fanout_group;
    uint32_t type = PACKET_FANOUT_HASH;
    uint32_t arg;
    socklen_t len;
    int error, value;

    if (group == TAP_RING_NO_FANOUT) {
        return 0;
    }
    if (ring->config.fanout_defrag) {
        type |= PACKET_FANOUT_FLAG_DEFRAG;
    }
    if (group == TAP_RING_NEW_FANOUT) {
        type |= PACKET_FANOUT_FLAG_UNIQUEID;
        group = 0;
    }
    /* The argument is (type | flags) << 16 | id, passed as an int.  The
     * flag spares the kernel cloning outgoing frames for the filter to
     * drop; kernels before 6.8 refuse it. */
    arg = (type | PACKET_FANOUT_FLAG_IGNORE_OUTGOING) << 16 | group;
    error = setsockopt(ring->fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg)
            ? errno : 0;
    if (error == EINVAL) {
        arg = type << 16 | group;
        error = setsockopt(ring->fd, SOL_PACKET, PACKET_FANOUT, &arg,
                           sizeof arg) ? errno : 0;
    }
    if (error) {
        return error;
    }
    len = sizeof value;
    if (getsockopt(ring->fd, SOL_PACKET, PACKET_FANOUT, &value, &len)) {
        return errno;
    }
    ring->fanout_id = value & 0xffff;
    return 0;
}

/* Opens the socket and ring of 'ring', bound to 'ifindex'. */
static int
ring_open(struct tap_ring *ring, int ifindex)
{
    const struct tap_ring_config *c = &ring->config;
    struct tpacket_req3 req;
    struct sockaddr_ll sll;
    socklen_t len;
    int error, so_error;

    ring->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (ring->fd < 0) {
        return errno;
    }

    pthread_mutex_lock(&ring->mutex);
    error = attach_filter(ring->fd, ring->filter, ring->n_filter);
    pthread_mutex_unlock(&ring->mutex);
    if (error) {
        goto error;
    }

    error = setsockopt_int(ring->fd, SOL_PACKET, PACKET_VERSION,
                           TPACKET_V3);
    if (error) {
        goto error;
    }
    memset(&req, 0, sizeof req);
    req.tp_block_size = c->block_size;
    req.tp_block_nr = c->n_blocks;
    req.tp_frame_size = c->frame_size_hint;
    req.tp_frame_nr = (c->block_size / c->frame_size_hint) * c->n_blocks;
    req.tp_retire_blk_tov = c->block_timeout_ms;
    if (setsockopt(ring->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req)) {
        error = errno;
        goto error;
    }
    ring->map_size = (size_t) c->block_size * c->n_blocks;
    ring->map = mmap(NULL, ring->map_size, PROT_READ | PROT_WRITE,
                     MAP_SHARED, ring->fd, 0);
    if (ring->map == MAP_FAILED) {
        ring->map = NULL;
        error = errno;
        goto error;
    }

    error = setsockopt_int(ring->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
    if (!error) {
        error = setsockopt_int(ring->fd, SOL_PACKET, PACKET_AUXDATA, 1);
    }
    if (error) {
        goto error;
    }

    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = ifindex;
    if (bind(ring->fd, (struct sockaddr *) &sll, sizeof sll)) {
        error = errno;
        goto error;
    }
    /* Bound to a down interface, the socket is not running (and cannot
     * join a fanout group). */
    so_error = 0;
    len = sizeof so_error;
    if (getsockopt(ring->fd, SOL_SOCKET, SO_ERROR, &so_error, &len)) {
        error = errno;
        goto error;
    }
    if (so_error) {
        error = so_error;
        goto error;
    }
    error = ring_join_fanout(ring);
    if (error) {
        goto error;
    }
    ring->ifindex = ifindex;
    ring->cur = 0;
    return 0;

error:
    ring_close(ring);
    return error;
}

int
tap_ring_create(const struct tap_ring_config *config, int ifindex,
                struct tap_ring **ringp)
{
    struct tap_ring *ring;
    int error;

    *ringp = NULL;
    error = tap_ring_config_check(config);
    if (error || ifindex < 0) {
        return EINVAL;
    }

    ring = xzalloc(sizeof *ring);
    ring->config = *config;
    ring->fd = -1;
    ring->ifindex = -1;
    ring->fanout_id = -1;
    pthread_mutex_init(&ring->mutex, NULL);
    atomic_init(&ring->packets, 0);
    if (config->reinsert_vlan) {
        ring->scratch = xmalloc(config->block_size + 4);
    }
    error = tap_ring_build_filter(&ifindex, ifindex ? 1 : 0, config->snaplen,
                                  &ring->filter, &ring->n_filter);
    if (!error) {
        error = ring_open(ring, ifindex);
    }
    if (error) {
        tap_ring_destroy(ring);
        return error;
    }
    *ringp = ring;
    return 0;
}

int
tap_ring_set_ifindexes(struct tap_ring *ring, const int *ifindexes, size_t n)
{
    struct sock_filter *insns;
    size_t n_insns;
    int error;

    error = tap_ring_build_filter(ifindexes, n, ring->config.snaplen, &insns,
                                  &n_insns);
    if (error) {
        return error;
    }
    pthread_mutex_lock(&ring->mutex);
    error = ring->fd >= 0 ? attach_filter(ring->fd, insns, n_insns) : 0;
    if (!error) {
        free(ring->filter);
        ring->filter = insns;
        ring->n_filter = n_insns;
        insns = NULL;
    }
    pthread_mutex_unlock(&ring->mutex);
    free(insns);
    return error;
}

int
tap_ring_rebind(struct tap_ring *ring, int ifindex)
{
    if (ifindex < 0) {
        return EINVAL;
    }
    tap_ring_get_stats(ring, &(struct tap_ring_stats) { 0 });
    ring_close(ring);
    return ring_open(ring, ifindex);
}

int
tap_ring_get_ifindex(const struct tap_ring *ring)
{
    return ring->ifindex;
}

int
tap_ring_get_fanout_group(const struct tap_ring *ring)
{
    return ring->fanout_id;
}

static struct tpacket_block_desc *
ring_block(const struct tap_ring *ring, uint32_t i)
{
    /* Blocks are page-aligned. */
    return (struct tpacket_block_desc *) (void *)
        (ring->map + (size_t) i * ring->config.block_size);
}

static bool
block_ready(const struct tpacket_block_desc *bd)
{
    return __atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE)
           & TP_STATUS_USER;
}

/* Calls 'cb' for each frame of the ready block 'bd'.  Returns the number
 * of frames. */
static uint32_t
ring_walk_block(struct tap_ring *ring, struct tpacket_block_desc *bd,
                tap_frame_func *cb, void *aux)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(5, 5);
    const size_t hdr_size = TPACKET_ALIGN(sizeof(struct tpacket3_hdr));
    const size_t block_size = ring->config.block_size;
    uint32_t n_pkts = bd->hdr.bh1.num_pkts;
    size_t off = bd->hdr.bh1.offset_to_first_pkt;
    uint32_t i;

    for (i = 0; i < n_pkts; i++) {
        const struct tpacket3_hdr *h;
        const struct sockaddr_ll *sll;
        struct tap_frame frame;

        if (off < sizeof *bd || off % V3_ALIGNMENT
            || off + hdr_size + sizeof *sll > block_size) {
            break;
        }
        /* Frames are V3_ALIGNMENT-aligned in a page-aligned block. */
        h = (const struct tpacket3_hdr *) (void *) ((uint8_t *) bd + off);
        sll = (const struct sockaddr_ll *) (void *) ((uint8_t *) h
                                                     + hdr_size);
        if (off + h->tp_mac + h->tp_snaplen > block_size) {
            break;
        }

        if (sll->sll_pkttype == PACKET_OUTGOING) {
            goto next;          /* The filter should have dropped it. */
        }
        frame.data = (const uint8_t *) h + h->tp_mac;
        frame.caplen = h->tp_snaplen;
        frame.wire_len = h->tp_len;
        frame.ts_ns = (uint64_t) h->tp_sec * 1000000000 + h->tp_nsec;
        frame.ifindex = sll->sll_ifindex;
        frame.vlan_valid = (h->tp_status & TP_STATUS_VLAN_VALID) != 0;
        frame.vlan_inline = false;
        frame.vlan_tpid = ((h->tp_status & TP_STATUS_VLAN_TPID_VALID)
                           ? h->hv1.tp_vlan_tpid : ETH_P_8021Q);
        frame.vlan_tci = h->hv1.tp_vlan_tci;
        if (!frame.vlan_valid) {
            frame.vlan_tpid = 0;
            frame.vlan_tci = 0;
        } else if (ring->scratch && frame.caplen >= 2 * ETH_ALEN) {
            uint8_t *s = ring->scratch;

            memcpy(s, frame.data, 2 * ETH_ALEN);
            s[12] = frame.vlan_tpid >> 8;
            s[13] = frame.vlan_tpid;
            s[14] = frame.vlan_tci >> 8;
            s[15] = frame.vlan_tci;
            memcpy(s + 16, frame.data + 2 * ETH_ALEN,
                   frame.caplen - 2 * ETH_ALEN);
            frame.data = s;
            frame.caplen += 4;
            frame.wire_len += 4;
            frame.vlan_inline = true;
        }
        cb(aux, &frame);

    next:
        if (!h->tp_next_offset && i + 1 < n_pkts) {
            break;
        }
        off += h->tp_next_offset;
    }
    if (i < n_pkts) {
        VNM_WARN_RL(&rl, "ring on ifindex %d: malformed block "
                    "(%"PRIu32" of %"PRIu32" frames read)",
                    ring->ifindex, i, n_pkts);
    }
    return i;
}

int
tap_ring_poll(struct tap_ring *ring, int timeout_ms, tap_frame_func *cb,
              void *aux)
{
    struct tpacket_block_desc *bd;
    int so_error = 0;
    uint32_t i;
    int n = 0;

    if (ring->fd < 0) {
        if (timeout_ms) {
            poll(NULL, 0, timeout_ms < 0 ? NO_RING_SLEEP_MS : timeout_ms);
        }
        return 0;
    }

    bd = ring_block(ring, ring->cur);
    if (!block_ready(bd)) {
        struct pollfd pfd = { .fd = ring->fd, .events = POLLIN | POLLERR };
        int retval = poll(&pfd, 1, timeout_ms);

        if (retval < 0) {
            return errno == EINTR ? 0 : -errno;
        }
        if (pfd.revents & POLLERR) {
            socklen_t len = sizeof so_error;

            if (getsockopt(ring->fd, SOL_SOCKET, SO_ERROR, &so_error, &len)) {
                so_error = errno;
            }
        }
    }

    for (i = 0; i < ring->config.n_blocks && block_ready(bd); i++) {
        n += ring_walk_block(ring, bd, cb, aux);
        __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
                         __ATOMIC_RELEASE);
        ring->cur = (ring->cur + 1) % ring->config.n_blocks;
        bd = ring_block(ring, ring->cur);
    }
    if (n) {
        atomic_store_explicit(&ring->packets,
                              atomic_load_explicit(&ring->packets,
                                                   memory_order_relaxed) + n,
                              memory_order_relaxed);
    }
    return n ? n : -so_error;
}

void
tap_ring_get_stats(struct tap_ring *ring, struct tap_ring_stats *stats)
{
    struct tpacket_stats_v3 st;
    socklen_t len = sizeof st;

    pthread_mutex_lock(&ring->mutex);
    if (ring->fd >= 0
        && !getsockopt(ring->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len)) {
        ring->kernel_packets += st.tp_packets;
        ring->drops += st.tp_drops;
        ring->freeze_q_cnt += st.tp_freeze_q_cnt;
    }
    stats->kernel_packets = ring->kernel_packets;
    stats->drops = ring->drops;
    stats->freeze_q_cnt = ring->freeze_q_cnt;
    pthread_mutex_unlock(&ring->mutex);
    stats->packets = atomic_load_explicit(&ring->packets,
                                          memory_order_relaxed);
}

void
tap_ring_destroy(struct tap_ring *ring)
{
    if (ring) {
        ring_close(ring);
        pthread_mutex_destroy(&ring->mutex);
        free(ring->filter);
        free(ring->scratch);
        free(ring);
    }
}

/* -------------------------------------------------------- ring group */

/* A ring that the main thread created for a worker, until it closes it. */
struct group_ring {
    struct tap_ring *ring;
    uint64_t gen;               /* Generation: the binding it belongs to. */
};

/* A worker's slot.  Aligned so that workers do not share cache lines. */
struct group_worker {
    /* Main thread to worker: the ring to adopt. */
    _Atomic(struct group_ring *) next;
    /* Worker to main thread: the generation of the ring in use, 0 if
     * none. */
    atomic_uint_least64_t cur_gen;
    /* Worker only: the ring in use. */
    struct group_ring *cur;

    /* Main thread only: every ring created for this worker and not yet
     * closed, and the counters of those closed. */
    struct group_ring **rings;
    size_t n_rings;
    struct tap_ring_stats closed;
} __attribute__((aligned(64)));

struct tap_ring_group {
    struct tap_ring_config config;
    size_t n_workers;
    struct group_worker *workers;
    uint64_t gen;               /* Generation of the last binding. */
    int ifindex;                /* Of the last binding, -1 if none. */
    int *ifindexes;             /* The filter's set. */
    size_t n_ifindexes;
};

int
tap_ring_group_create(const struct tap_ring_config *config,
                      size_t n_workers, struct tap_ring_group **groupp)
{
    struct tap_ring_group *group;
    size_t i;

    *groupp = NULL;
    if (tap_ring_config_check(config) || !n_workers || n_workers > 1024) {
        return EINVAL;
    }
    group = xzalloc(sizeof *group);
    group->config = *config;
    group->n_workers = n_workers;
    group->ifindex = -1;
    if (posix_memalign((void **) &group->workers, 64,
                       n_workers * sizeof *group->workers)) {
        vnm_fatal("out of memory");
    }
    memset(group->workers, 0, n_workers * sizeof *group->workers);
    for (i = 0; i < n_workers; i++) {
        atomic_init(&group->workers[i].next, NULL);
        atomic_init(&group->workers[i].cur_gen, 0);
    }
    *groupp = group;
    return 0;
}

static void
stats_add(struct tap_ring_stats *sum, const struct tap_ring_stats *s)
{
    sum->packets += s->packets;
    sum->kernel_packets += s->kernel_packets;
    sum->drops += s->drops;
    sum->freeze_q_cnt += s->freeze_q_cnt;
}

/* Closes ring 'i' of worker 'w', keeping its counters. */
static void
group_close_ring(struct group_worker *w, size_t i)
{
    struct group_ring *gr = w->rings[i];
    struct tap_ring_stats s;

    tap_ring_get_stats(gr->ring, &s);
    stats_add(&w->closed, &s);
    tap_ring_destroy(gr->ring);
    free(gr);
    w->rings[i] = w->rings[--w->n_rings];
}

/* Closes the rings that workers have left for newer ones. */
static void
group_collect(struct tap_ring_group *group)
{
    size_t i, j;

    for (i = 0; i < group->n_workers; i++) {
        struct group_worker *w = &group->workers[i];
        uint64_t cur = atomic_load_explicit(&w->cur_gen,
                                            memory_order_acquire);

        for (j = 0; j < w->n_rings;) {
            if (w->rings[j]->gen < cur) {
                group_close_ring(w, j);
            } else {
                j++;
            }
        }
    }
}

int
tap_ring_group_bind(struct tap_ring_group *group, int ifindex)
{
    struct tap_ring_config config = group->config;
    struct tap_ring **rings;
    size_t i;
    int error = 0;

    if (ifindex < 0) {
        return EINVAL;
    }
    group_collect(group);

    rings = xcalloc(group->n_workers, sizeof *rings);
    config.fanout_group = (group->n_workers > 1 ? TAP_RING_NEW_FANOUT
                           : TAP_RING_NO_FANOUT);
    for (i = 0; i < group->n_workers && !error; i++) {
        error = tap_ring_create(&config, ifindex, &rings[i]);
        if (!error) {
            error = tap_ring_set_ifindexes(rings[i], group->ifindexes,
                                           group->n_ifindexes);
        }
        if (!error && i == 0 && group->n_workers > 1) {
            config.fanout_group = tap_ring_get_fanout_group(rings[0]);
        }
    }
    if (error) {
        for (i = 0; i < group->n_workers; i++) {
            tap_ring_destroy(rings[i]);
        }
        free(rings);
        return error;
    }

    group->gen++;
    for (i = 0; i < group->n_workers; i++) {
        struct group_worker *w = &group->workers[i];
        struct group_ring *gr = xmalloc(sizeof *gr);
        struct group_ring *old;
        size_t j;

        gr->ring = rings[i];
        gr->gen = group->gen;
        w->rings = xrealloc(w->rings, (w->n_rings + 1) * sizeof *w->rings);
        w->rings[w->n_rings++] = gr;
        old = atomic_exchange_explicit(&w->next, gr, memory_order_acq_rel);
        if (old) {
            /* Never adopted: the worker cannot take it any more. */
            for (j = 0; j < w->n_rings; j++) {
                if (w->rings[j] == old) {
                    group_close_ring(w, j);
                    break;
                }
            }
        }
    }
    free(rings);
    group->ifindex = ifindex;
    return 0;
}

int
tap_ring_group_get_ifindex(const struct tap_ring_group *group)
{
    return group->ifindex;
}

int
tap_ring_group_set_ifindexes(struct tap_ring_group *group,
                             const int *ifindexes, size_t n)
{
    struct sock_filter *insns;
    size_t n_insns, i, j;
    int error;

    /* Check that the set fits before touching any ring. */
    error = tap_ring_build_filter(ifindexes, n, group->config.snaplen,
                                  &insns, &n_insns);
    if (error) {
        return error;
    }
    free(insns);

    group_collect(group);
    free(group->ifindexes);
    group->ifindexes = NULL;
    if (n) {
        group->ifindexes = xmalloc(n * sizeof *group->ifindexes);
        memcpy(group->ifindexes, ifindexes, n * sizeof *group->ifindexes);
    }
    group->n_ifindexes = n;
    for (i = 0; i < group->n_workers; i++) {
        struct group_worker *w = &group->workers[i];

        for (j = 0; j < w->n_rings; j++) {
            int retval = tap_ring_set_ifindexes(w->rings[j]->ring, ifindexes,
                                                n);
            if (retval && !error) {
                error = retval;
            }
        }
    }
    return error;
}

int
tap_ring_group_poll(struct tap_ring_group *group, size_t worker,
                    int timeout_ms, tap_frame_func *cb, void *aux)
{
    struct group_worker *w = &group->workers[worker];
    struct group_ring *next;

    next = atomic_exchange_explicit(&w->next, NULL, memory_order_acq_rel);
    if (next) {
        w->cur = next;
        atomic_store_explicit(&w->cur_gen, next->gen, memory_order_release);
    }
    if (timeout_ms < 0 || timeout_ms > GROUP_MAX_WAIT_MS) {
        timeout_ms = GROUP_MAX_WAIT_MS;
    }
    if (!w->cur) {
        if (timeout_ms) {
            poll(NULL, 0, timeout_ms);
        }
        return 0;
    }
    return tap_ring_poll(w->cur->ring, timeout_ms, cb, aux);
}

void
tap_ring_group_get_stats(struct tap_ring_group *group, size_t worker,
                         struct tap_ring_stats *stats)
{
    struct group_worker *w = &group->workers[worker];
    size_t i;

    group_collect(group);
    *stats = w->closed;
    for (i = 0; i < w->n_rings; i++) {
        struct tap_ring_stats s;

        tap_ring_get_stats(w->rings[i]->ring, &s);
        stats_add(stats, &s);
    }
}

void
tap_ring_group_destroy(struct tap_ring_group *group)
{
    size_t i;

    if (!group) {
        return;
    }
    for (i = 0; i < group->n_workers; i++) {
        struct group_worker *w = &group->workers[i];

        while (w->n_rings) {
            group_close_ring(w, w->n_rings - 1);
        }
        free(w->rings);
    }
    free(group->workers);
    free(group->ifindexes);
    free(group);
}
