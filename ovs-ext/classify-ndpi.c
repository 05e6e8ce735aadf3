/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Application classification with nDPI 4.2: see classify-ndpi.h.  The one
 * file that includes nDPI's headers, so the one place that absorbs its API
 * drift.
 *
 * Heap accounting: nDPI allocates through ndpi_malloc()/ndpi_free() (and
 * ndpi_calloc(), ndpi_realloc(), ndpi_strdup(), which call them), whose
 * backends set_ndpi_malloc()/set_ndpi_free() replace process-wide.  Our
 * backends put a 16-byte header before each block, with the block's size and
 * the counter it was charged to: the classifier whose call is running in this
 * thread (a thread-local pointer set around every call into nDPI), or a
 * process-wide counter outside any.  The free backend, which is given no
 * size, reads the header and uncharges the same counter.  The header keeps
 * malloc()'s 16-byte alignment.
 */
#include <config.h>

#include "ovs-ext/classify-ndpi.h"

#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi_api.h>

#include "lib/log.h"
#include "lib/util.h"
#include "vnmon/flow.h"

VNM_LOG_MODULE(classify_ndpi);

struct classifier {
    struct ndpi_detection_module_struct *ndpi;
    uint64_t heap;              /* Bytes charged by the allocation hooks. */
};

/* The per-flow state: nDPI's flow struct first (the caller's allocation
 * aligns it), then what we keep beside it. */
struct classify_flow {
    struct ndpi_flow_struct ndpi;
    ndpi_protocol proto;        /* Last result from nDPI. */
    uint16_t n_fed;             /* Packets fed. */
    uint8_t state;              /* enum classify_state. */
    bool data_freed;            /* ndpi_free_flow_data() was called. */
};

/* The header of each block allocated for nDPI. */
struct heap_header {
    uint64_t *counter;          /* Where 'size' was charged. */
    size_t size;                /* Bytes of the block, header included. */
};

/* The classifier on whose behalf this thread is calling nDPI, or NULL. */
static __thread struct classifier *current;

/* Bytes allocated by nDPI outside any classifier's call (atomic). */
static uint64_t unattributed_heap;

/* Bytes allocated by nDPI in the process (atomic). */
static uint64_t total_heap;

/* nDPI's module setup and teardown must not run in parallel. */
static pthread_mutex_t setup_mutex = PTHREAD_MUTEX_INITIALIZER;

static void *
heap_malloc(size_t size)
{
    struct heap_header *h;

    if (size > SIZE_MAX - sizeof *h) {
        return NULL;
    }
    h = malloc(sizeof *h + size);
    if (!h) {
        return NULL;
    }
    h->size = sizeof *h + size;
    __atomic_add_fetch(&total_heap, h->size, __ATOMIC_RELAXED);
    if (current) {
        h->counter = &current->heap;
        current->heap += h->size;
    } else {
        h->counter = &unattributed_heap;
        __atomic_add_fetch(&unattributed_heap, h->size, __ATOMIC_RELAXED);
    }
    return h + 1;
}

static void
heap_free(void *p)
{
    struct heap_header *h;

    if (!p) {
        return;
    }
    h = (struct heap_header *) p - 1;
    __atomic_sub_fetch(&total_heap, h->size, __ATOMIC_RELAXED);
    if (h->counter == &unattributed_heap) {
        __atomic_sub_fetch(&unattributed_heap, h->size, __ATOMIC_RELAXED);
    } else {
        *h->counter -= h->size;
    }
    free(h);
}

static void
install_heap_hooks(void)
{
    set_ndpi_malloc(heap_malloc);
    set_ndpi_free(heap_free);
}

struct classifier *
classifier_create(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    NDPI_PROTOCOL_BITMASK all;
    struct classifier *c;

    pthread_once(&once, install_heap_hooks);

    c = xzalloc(sizeof *c);
    pthread_mutex_lock(&setup_mutex);
    current = c;
    c->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
    if (c->ndpi) {
        NDPI_BITMASK_SET_ALL(all);
        ndpi_set_protocol_detection_bitmask2(c->ndpi, &all);
        ndpi_finalize_initialization(c->ndpi);
    }
    current = NULL;
    pthread_mutex_unlock(&setup_mutex);
    if (!c->ndpi) {
        vnm_fatal("nDPI %s: cannot create a detection module (out of "
                  "memory)", ndpi_revision());
    }
    VNM_DBG("nDPI %s detection module created (%"PRIu64" bytes)",
            ndpi_revision(), c->heap);
    return c;
}

void
classifier_destroy(struct classifier *c)
{
    if (!c) {
        return;
    }
    pthread_mutex_lock(&setup_mutex);
    current = c;
    ndpi_exit_detection_module(c->ndpi);
    current = NULL;
    pthread_mutex_unlock(&setup_mutex);
    if (c->heap) {
        /* Blocks still charged to 'c' uncharge it when they are freed, so
         * 'c' must stay: a small leak rather than a use after free. */
        VNM_WARN("nDPI: %"PRIu64" bytes outlive their detection module "
                 "(flow states not cleaned up?)", c->heap);
        c->ndpi = NULL;
        return;
    }
    free(c);
}

size_t
classifier_flow_size(void)
{
    return sizeof(struct classify_flow);
}

uint64_t
classifier_heap_size(const struct classifier *c)
{
    return c->heap;
}

uint64_t
classifier_heap_total(void)
{
    return __atomic_load_n(&total_heap, __ATOMIC_RELAXED);
}

/* Marks 'f' done and frees what nDPI allocated for it (TLS reassembly
 * buffers, JA3 and HTTP strings...): the result only needs what the flow
 * struct holds inline.  ndpi_free_flow_data() leaves dangling pointers
 * behind, so it must not run twice. */
static void
done(struct classify_flow *f)
{
    f->state = CLASSIFY_DONE;
    ndpi_free_flow_data(&f->ndpi);
    f->data_freed = true;
}

/* Gives up on 'f': nDPI's guess becomes its result. */
static void
giveup(struct classifier *c, struct classify_flow *f)
{
    uint8_t guessed;

    current = c;
    f->proto = ndpi_detection_giveup(c->ndpi, &f->ndpi, 1, &guessed);
    current = NULL;
    done(f);
}

enum classify_state
classify_packet(struct classifier *c, void *flow_state, const uint8_t *l3,
                uint16_t l3_len, uint64_t ts_ms)
{
    struct classify_flow *f = flow_state;
    unsigned int max;
    bool enough;

    if (f->state == CLASSIFY_DONE) {
        return CLASSIFY_DONE;
    }

    current = c;
    f->proto = ndpi_detection_process_packet(c->ndpi, &f->ndpi, l3, l3_len,
                                             ts_ms);
    current = NULL;
    if (f->n_fed < UINT16_MAX) {
        f->n_fed++;
    }

    /* As ndpiReader does: stop at the first application found, unless
     * extra dissection pays; give up after too many packets. */
    max = (f->ndpi.l4_proto == IPPROTO_TCP
           ? CLASSIFY_MAX_TCP_PACKETS : CLASSIFY_MAX_OTHER_PACKETS);
    enough = f->n_fed > max;
    if (enough || f->proto.app_protocol != NDPI_PROTOCOL_UNKNOWN) {
        if (!enough && ndpi_extra_dissection_possible(c->ndpi, &f->ndpi)) {
            f->state = CLASSIFY_EXTRA;
        } else if (f->proto.app_protocol == NDPI_PROTOCOL_UNKNOWN) {
            giveup(c, f);
        } else {
            done(f);
        }
    }
    return f->state;
}

enum classify_state
classify_get_state(const void *flow_state)
{
    const struct classify_flow *f = flow_state;

    return f->state;
}

void
classify_giveup(struct classifier *c, void *flow_state)
{
    struct classify_flow *f = flow_state;

    if (f->n_fed && f->state != CLASSIFY_DONE) {
        giveup(c, f);
    }
}

/* Copies the string 'src' (NULL for "") into 'dst' of 'size' bytes,
 * truncating.  Reads at most 'src_size' bytes of 'src', which need not be
 * terminated within them. */
static void
copy_name(char *dst, size_t size, const char *src, size_t src_size)
{
    size_t len = src ? strnlen(src, src_size < size ? src_size : size - 1)
                     : 0;

    memcpy(dst, src ? src : "", len);
    dst[len] = '\0';
}

void
classify_app_name(struct classifier *c, const void *flow_state,
                  char *app_name, size_t size)
{
    const struct classify_flow *f = flow_state;
    uint16_t app = f->proto.app_protocol;

    if (app == NDPI_PROTOCOL_UNKNOWN) {
        app = f->proto.master_protocol;
    }
    if (!f->n_fed) {
        app_name[0] = '\0';
        return;
    }
    copy_name(app_name, size, ndpi_get_proto_name(c->ndpi, app), size);
}

void
classify_result(struct classifier *c, const void *flow_state,
                struct vnm_flow *out)
{
    const struct classify_flow *f = flow_state;
    uint16_t app = f->proto.app_protocol;
    uint16_t master = f->proto.master_protocol;
    uint16_t client_score, server_score;
    struct ndpi_flow_struct *nf;

    if (!f->n_fed) {
        out->app[0] = out->master[0] = out->category[0] = '\0';
        out->server_name[0] = '\0';
        out->confidence = 0;
        out->risk_score = 0;
        out->risks = 0;
        return;
    }

    /* ndpi_protocol2name() prints "MASTER.APP" if both are known and
     * differ, "MASTER" if only the master is known, else "APP": the
     * master alone is our 'app' (classify_app_name()). */
    if (master == app || app == NDPI_PROTOCOL_UNKNOWN) {
        master = NDPI_PROTOCOL_UNKNOWN;
    }
    classify_app_name(c, flow_state, out->app, sizeof out->app);
    copy_name(out->master, sizeof out->master,
              (master != NDPI_PROTOCOL_UNKNOWN
               ? ndpi_get_proto_name(c->ndpi, master) : NULL),
              sizeof out->master);
    copy_name(out->category, sizeof out->category,
              ndpi_category_get_name(c->ndpi, f->proto.category),
              sizeof out->category);

    /* nDPI's getters take a mutable flow but do not change it. */
    nf = (struct ndpi_flow_struct *) &f->ndpi;
    out->confidence = (uint8_t) nf->confidence;
    out->risks = nf->risk;
    out->risk_score = ndpi_risk2score(nf->risk, &client_score,
                                      &server_score);
    copy_name(out->server_name, sizeof out->server_name,
              nf->host_server_name, sizeof nf->host_server_name);
}

void
classify_flow_cleanup(void *flow_state)
{
    struct classify_flow *f = flow_state;

    if (f && !f->data_freed) {
        ndpi_free_flow_data(&f->ndpi);
        f->data_freed = true;
    }
}
