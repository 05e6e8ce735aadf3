/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Detector "lateral": one VM reaching many VMs on the same service port
 * within a window, as a worm spreading or an intruder moving laterally
 * does (SMB on tcp/445, SSH, RDP...).
 *
 * Every TCP or UDP flow a VM starts towards another VM counts, answered or
 * not: the destination is a VM if the network view knows a VM port bound
 * to its address (net->port_by_ip(), on any hypervisor), or if its own
 * frames entered on a VM port.  For each source (the VM port the
 * initiator's frames entered on) the detector keeps, over a sliding window
 * of the flows' own times (flow->first_ms), the distinct destination VMs
 * per service (protocol and destination port).  More than 'vms' of them on
 * one service raise "lateral", keyed "HOST/PORT>SERVICE" (detect-util.h)
 * with target the service, e.g. "tcp/445": one incident per source and
 * service.  While the source stays above the threshold every flow of that
 * service from it updates the incident, with the packets and bytes (both
 * ways) of its records not counted before (du_delta()); emissions are
 * merged so that an incident is emitted at most once a second.
 *
 * 'services' limits the services watched (default: all); 'ignore_sources'
 * names VM ports never counted as sources (a monitoring server, a
 * configuration manager), as "PORT" or "HOST/PORT".
 *
 * Memory is bounded: each source tracks at most 4 x (vms + 1) (service,
 * VM) pairs, making room as the scan detector does (the service with the
 * fewest VMs gives one up first); at most 'max_sources' sources are
 * tracked, the least recently seen one being evicted for a new one; a
 * source with no flow for a window is forgotten at a tick.
 *
 * Configuration: section [detector "lateral"], keys in doc/alerts.md.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/detect-util.h"
#include "vnmon/plugin.h"

#define MAX_SERVICES 64         /* Entries of 'services'. */
#define DEST_NAME_SIZE 96       /* "host/port" or an address. */

/* A (service, destination VM) pair, seen at 'ms'. */
struct reach {
    uint8_t proto;
    uint16_t port;
    uint64_t dest;              /* Hash of the destination VM's name. */
    uint64_t ms;                /* Time of its latest flow. */
    char name[DEST_NAME_SIZE];  /* The VM's port name, or its address. */
};

/* A source VM port. */
struct source {
    struct source *hash_next;
    struct du_lru_node lru;     /* In the recency list, by 'seen_ms'. */
    uint32_t hash;
    char host[VNM_ID_SIZE];     /* flow->host. */
    char port[VNM_PORT_NAME_SIZE];
    uint64_t seen_ms;           /* Host clock of its latest flow. */
    uint64_t newest_ms;         /* Time of its newest flow. */
    struct reach *reach;        /* Sorted by (proto, port, dest). */
    size_t n_reach;
};

/* A watched service. */
struct service {
    uint8_t proto;
    uint16_t port;
};

/* The detector's state. */
struct lateral {
    const struct vnm_host *host;
    const struct vnm_net_ops *net; /* Null on a host older than ABI 1.1. */
    uint64_t window_ms;
    size_t vms;                 /* Alert above this many VMs. */
    size_t cap;                 /* Pairs per source. */
    size_t max_sources;
    enum vnm_severity severity;
    const char *ignore_sources;
    struct service services[MAX_SERVICES];
    size_t n_services;          /* 0: every service. */

    struct du_deltas *deltas;
    struct du_emitter *emitter; /* Limits emissions to one a second. */
    struct source **buckets;
    size_t mask;
    size_t n_sources;
    struct du_lru lru;          /* Sources, by 'seen_ms'. */
};

static uint64_t
name_hash(const char *name)
{
    uint64_t hash = UINT64_C(14695981039346656037);   /* FNV-1a 64. */

    for (const char *p = name; *p; p++) {
        hash = (hash ^ (uint8_t) *p) * UINT64_C(1099511628211);
    }
    return hash;
}

static void
source_destroy(struct lateral *l, struct source *src)
{
    struct source **p = &l->buckets[src->hash & l->mask];

    while (*p != src) {
        p = &(*p)->hash_next;
    }
    *p = src->hash_next;
    du_lru_remove(&l->lru, &src->lru);
    l->n_sources--;
    free(src->reach);
    free(src);
}

/* The least recently seen source of 'l', which has one. */
static struct source *
oldest_source(const struct lateral *l)
{
    return DU_LRU_ENTRY(l->lru.oldest, struct source, lru);
}

/* Returns the source port 'port' of 'host', created if needed (evicting the
 * least recently seen one if there are 'max_sources'), or null if memory
 * ran out. */
static struct source *
source_get(struct lateral *l, const char *host, const char *port)
{
    uint32_t hash = du_hash_port(host, port);
    struct source **bucket = &l->buckets[hash & l->mask];
    struct source *src;

    for (src = *bucket; src; src = src->hash_next) {
        if (src->hash == hash && !strcmp(src->host, host)
            && !strcmp(src->port, port)) {
            du_lru_remove(&l->lru, &src->lru);
            du_lru_push_newest(&l->lru, &src->lru);
            return src;
        }
    }
    if (l->n_sources >= l->max_sources) {
        source_destroy(l, oldest_source(l));
        l->host->count(l->host, "sources_evicted", 1);
        bucket = &l->buckets[hash & l->mask];
    }
    src = calloc(1, sizeof *src);
    if (src) {
        src->reach = calloc(l->cap, sizeof *src->reach);
    }
    if (!src || !src->reach) {
        free(src);
        l->host->count(l->host, "no_memory", 1);
        return NULL;
    }
    src->hash = hash;
    snprintf(src->host, sizeof src->host, "%s", host);
    snprintf(src->port, sizeof src->port, "%s", port);
    src->hash_next = *bucket;
    *bucket = src;
    du_lru_push_newest(&l->lru, &src->lru);
    l->n_sources++;
    return src;
}

static int
reach_cmp(const struct reach *a, const struct reach *b)
{
    int cmp = (a->proto > b->proto) - (a->proto < b->proto);

    if (!cmp) {
        cmp = (a->port > b->port) - (a->port < b->port);
    }
    return cmp ? cmp : (a->dest > b->dest) - (a->dest < b->dest);
}

static bool
reach_same_service(const struct reach *a, const struct reach *b)
{
    return a->proto == b->proto && a->port == b->port;
}

/* Drops the pairs of 'src' seen at or before 'horizon_ms'. */
static void
source_expire(struct source *src, uint64_t horizon_ms)
{
    size_t n = 0;

    for (size_t i = 0; i < src->n_reach; i++) {
        if (src->reach[i].ms > horizon_ms) {
            src->reach[n++] = src->reach[i];
        }
    }
    src->n_reach = n;
}

/* Records 'key' in 'src' (cap 'cap', see the file comment).  Returns the
 * number of VMs of its service then tracked, and the time they span in
 * '*spanp'. */
static size_t
source_add(struct source *src, size_t cap, const struct reach *key,
           uint64_t *spanp)
{
    uint64_t first = UINT64_MAX, last = 0;
    size_t i, n;

    for (i = 0; i < src->n_reach && reach_cmp(&src->reach[i], key) < 0;
         i++) {
        continue;
    }
    if (i < src->n_reach && !reach_cmp(&src->reach[i], key)) {
        if (key->ms > src->reach[i].ms) {
            src->reach[i].ms = key->ms;
        }
    } else {
        if (src->n_reach == cap) {
            /* The oldest pair of the service with the fewest VMs, if it
             * has at most one more than this one's; else this one's. */
            size_t own = 0, own_oldest = SIZE_MAX;
            size_t min = SIZE_MAX, victim = SIZE_MAX;

            for (size_t a = 0; a < src->n_reach;) {
                size_t oldest = a, b;

                for (b = a + 1; b < src->n_reach
                     && reach_same_service(&src->reach[b], &src->reach[a]);
                     b++) {
                    if (src->reach[b].ms < src->reach[oldest].ms) {
                        oldest = b;
                    }
                }
                if (reach_same_service(&src->reach[a], key)) {
                    own = b - a;
                    own_oldest = oldest;
                } else if (b - a < min) {
                    min = b - a;
                    victim = oldest;
                }
                a = b;
            }
            if (min == SIZE_MAX || min > own + 1) {
                victim = own_oldest;
            }
            if (victim == SIZE_MAX) {
                victim = 0;
            }
            memmove(&src->reach[victim], &src->reach[victim + 1],
                    (src->n_reach - victim - 1) * sizeof *src->reach);
            src->n_reach--;
            for (i = 0; i < src->n_reach
                 && reach_cmp(&src->reach[i], key) < 0; i++) {
                continue;
            }
        }
        memmove(&src->reach[i + 1], &src->reach[i],
                (src->n_reach - i) * sizeof *src->reach);
        src->reach[i] = *key;
        src->n_reach++;
    }

    n = 0;
    for (i = 0; i < src->n_reach; i++) {
        if (reach_same_service(&src->reach[i], key)) {
            first = src->reach[i].ms < first ? src->reach[i].ms : first;
            last = src->reach[i].ms > last ? src->reach[i].ms : last;
            n++;
        }
    }
    *spanp = n ? last - first : 0;
    return n;
}

/* Flows. */

static bool
is_vm_attribution(const struct vnm_attribution *in)
{
    return in->port[0] && (in->vm[0] || in->iface_id[0] || in->tenant[0]);
}

/* Names the destination VM of 'flow' into 'name' and returns true, or
 * returns false if the destination is no VM. */
static bool
dest_name(const struct lateral *l, const struct vnm_flow *flow, char *name,
          size_t size)
{
    const struct vnm_port *port = NULL;

    if (l->net) {
        port = l->net->port_by_ip(l->host, NULL, &flow->dst.ip);
    }
    if (port && port->kind == VNM_PORT_VM) {
        snprintf(name, size, "%s/%s",
                 port->host_id[0] ? port->host_id : flow->host, port->name);
        return true;
    } else if (is_vm_attribution(&flow->dst.in)) {
        snprintf(name, size, "%s/%s", flow->host, flow->dst.in.port);
        return true;
    } else if (flow->class == VNM_FLOW_VM_VM_SAME_TENANT
               || flow->class == VNM_FLOW_VM_VM_CROSS_TENANT) {
        char ip[46];

        snprintf(name, size, "%s", du_addr(&flow->dst.ip, ip));
        return true;
    }
    return false;
}

/* True if 'flow''s service is watched. */
static bool
service_watched(const struct lateral *l, const struct vnm_flow *flow)
{
    if (!l->n_services) {
        return true;
    }
    for (size_t i = 0; i < l->n_services; i++) {
        if (l->services[i].proto == flow->ip_proto
            && l->services[i].port == flow->dst.port) {
            return true;
        }
    }
    return false;
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Emits the lateral movement of 'src' on the service of 'key', which
 * reached 'n' VMs over 'span_ms'; 'flow' showed it. */
static void
lateral_emit(struct lateral *l, struct source *src, const struct reach *key,
             const struct vnm_flow *flow, size_t n, uint64_t span_ms,
             uint64_t packets, uint64_t bytes)
{
    char target[32], ip[46], names[160], summary[256];
    char keybuf[VNM_ID_SIZE + VNM_PORT_NAME_SIZE + 40];
    char evidence[2][256];
    struct vnm_attribution vm, tmp;
    const struct vnm_port *port = NULL;
    const char **sorted;
    size_t len = 0, n_sorted = 0;
    struct vnm_alert alert = {
        .kind = "lateral",
        .severity = l->severity,
        .key = keybuf,
        .summary = summary,
        .vm = &vm,
        .target = target,
        .flow = flow,
        .packets = packets,
        .bytes = bytes,
        .n_evidence = 1,
        .evidence = { evidence[0] },
    };

    snprintf(target, sizeof target, "%s/%"PRIu16,
             key->proto == IPPROTO_TCP ? "tcp" : "udp", key->port);
    if (l->net) {
        port = l->net->port(l->host, flow->host, flow->src.in.port);
    }
    vm = *du_attribution(&flow->src.in, port, &tmp);
    du_key(flow, &vm, target, keybuf, sizeof keybuf);

    sorted = malloc(src->n_reach * sizeof *sorted);
    if (!sorted) {
        l->host->count(l->host, "no_memory", 1);
        return;
    }
    names[0] = '\0';
    for (size_t i = 0; i < src->n_reach; i++) {
        if (reach_same_service(&src->reach[i], key)) {
            sorted[n_sorted++] = src->reach[i].name;
        }
    }
    qsort(sorted, n_sorted, sizeof *sorted, name_cmp);
    for (size_t i = 0; i < n_sorted && len < sizeof names; i++) {
        const char *name = strchr(sorted[i], '/');

        if (i == 4) {
            len += snprintf(names + len, sizeof names - len, ", ...");
            break;
        }
        len += snprintf(names + len, sizeof names - len, "%s%s",
                        i ? ", " : "", name ? name + 1 : sorted[i]);
    }
    snprintf(summary, sizeof summary, "%s (%s) reached %zu VMs on %s in "
             "%"PRIu64".%"PRIu64" s: %s", src->port,
             du_addr(&flow->src.ip, ip), n, target, span_ms / 1000,
             span_ms % 1000 / 100, names);
    free(sorted);
    du_evidence(flow, true, evidence[0], sizeof evidence[0]);
    if (flow->dst.packets) {
        du_evidence(flow, false, evidence[1], sizeof evidence[1]);
        alert.evidence[1] = evidence[1];
        alert.n_evidence = 2;
    }
    du_emitter_emit(l->emitter, &alert);
}

/* Counts 'flow'.  'flow' is borrowed. */
static void
lateral_on_flow(void *state, const struct vnm_flow *flow)
{
    uint64_t packets, bytes, answers, answer_bytes, span, ms;
    struct lateral *l = state;
    const struct vnm_port *port = NULL;
    struct source *src;
    struct reach key;
    char self[DEST_NAME_SIZE];
    size_t n;

    if ((flow->ip_proto != IPPROTO_TCP && flow->ip_proto != IPPROTO_UDP)
        || !flow->src.in.port[0] || !flow->dst.port
        || !service_watched(l, flow)) {
        return;
    }
    if (!is_vm_attribution(&flow->src.in)) {
        if (l->net) {
            port = l->net->port(l->host, flow->host, flow->src.in.port);
        }
        if (!port || port->kind != VNM_PORT_VM) {
            return;
        }
    }
    if (du_list_has_port(l->ignore_sources, flow->host, flow->src.in.port)) {
        return;
    }
    memset(&key, 0, sizeof key);
    if (!dest_name(l, flow, key.name, sizeof key.name)) {
        return;
    }
    snprintf(self, sizeof self, "%s/%s", flow->host, flow->src.in.port);
    if (!strcmp(self, key.name)) {
        return;                 /* To itself. */
    }
    du_delta(l->deltas, flow, true, &packets, &bytes);
    du_delta(l->deltas, flow, false, &answers, &answer_bytes);
    if (!packets && !answers) {
        return;                 /* Seen already. */
    }
    l->host->count(l->host, "vm_flows", 1);

    src = source_get(l, flow->host, flow->src.in.port);
    if (!src) {
        return;
    }
    src->seen_ms = l->host->now_ms(l->host);
    ms = flow->first_ms ? flow->first_ms : src->seen_ms;
    if (ms > src->newest_ms) {
        src->newest_ms = ms;
    } else if (ms + l->window_ms <= src->newest_ms) {
        return;                 /* Late record, outside the window. */
    }
    if (src->newest_ms > l->window_ms) {
        source_expire(src, src->newest_ms - l->window_ms);
    }

    key.proto = flow->ip_proto;
    key.port = flow->dst.port;
    key.dest = name_hash(key.name);
    key.ms = ms;
    n = source_add(src, l->cap, &key, &span);
    if (n > l->vms) {
        lateral_emit(l, src, &key, flow, n, span, packets + answers,
                     bytes + answer_bytes);
    }
}

/* Delivers merged emissions, forgets sources idle for a window. */
static void
lateral_on_tick(void *state, uint64_t now_ms)
{
    struct lateral *l = state;

    du_emitter_tick(l->emitter, now_ms);
    while (l->lru.oldest
           && oldest_source(l)->seen_ms + l->window_ms <= now_ms) {
        source_destroy(l, oldest_source(l));
        l->host->count(l->host, "sources_expired", 1);
    }
}

/* Lifecycle. */

static void
lateral_destroy(void *state)
{
    struct lateral *l = state;

    while (l->lru.oldest) {
        source_destroy(l, oldest_source(l));
    }
    du_emitter_destroy(l->emitter);
    du_deltas_destroy(l->deltas);
    free(l->buckets);
    free(l);
}

/* Parses 'list' ("tcp/445, udp/137") into 'l''s services.  Returns false
 * (logging why) if it is not valid. */
static bool
parse_services(struct lateral *l, const struct vnm_host *host,
               const char *list)
{
    const char *p = list;

    while (*p) {
        char word[32];
        size_t len = strcspn(p, ", \t");
        unsigned long port;
        char *end;
        uint8_t proto;

        if (!len) {
            p++;
            continue;
        }
        snprintf(word, sizeof word, "%.*s", (int) (len < 31 ? len : 31), p);
        p += len;
        if (!strncmp(word, "tcp/", 4)) {
            proto = IPPROTO_TCP;
        } else if (!strncmp(word, "udp/", 4)) {
            proto = IPPROTO_UDP;
        } else {
            host->log(host, VNM_LOG_ERR, "services: \"%s\" is not tcp/PORT "
                      "or udp/PORT", word);
            return false;
        }
        port = strtoul(word + 4, &end, 10);
        if (*end || end == word + 4 || !port || port > 65535) {
            host->log(host, VNM_LOG_ERR, "services: \"%s\": bad port", word);
            return false;
        }
        if (l->n_services == MAX_SERVICES) {
            host->log(host, VNM_LOG_ERR, "services: more than %d",
                      MAX_SERVICES);
            return false;
        }
        l->services[l->n_services++] = (struct service) {
            .proto = proto, .port = port,
        };
    }
    return true;
}

static int
lateral_init(const struct vnm_host *host, const struct vnm_conf *conf,
             void **statep)
{
    int64_t max_flows;
    int64_t window_ms, vms, max_sources;
    const char *severity_name, *services, *ignore_sources;
    enum vnm_severity severity;
    struct lateral *l;
    size_t n_buckets;
    int error;

    if ((error = host->conf_duration(host, conf, "window", 60000, 1000,
                                     3600000, &window_ms))
        || (error = host->conf_int(host, conf, "vms", 8, 1, 1000, &vms))
        || (error = host->conf_string(host, conf, "services", "",
                                      &services))
        || (error = host->conf_string(host, conf, "ignore_sources", "",
                                      &ignore_sources))
        || (error = host->conf_int(host, conf, "max_sources", 4096, 1,
                                   1000000, &max_sources))
        || (error = host->conf_int(host, conf, "max_flows", 65536, 1,
                                   10000000, &max_flows))
        || (error = host->conf_string(host, conf, "severity", "high",
                                      &severity_name))) {
        return error;
    }
    if ((error = du_check_severity(host, "severity", severity_name,
                                   &severity))) {
        return error;
    }

    l = calloc(1, sizeof *l);
    if (!l) {
        return ENOMEM;
    }
    if (!parse_services(l, host, services)) {
        free(l);
        return EINVAL;
    }
    n_buckets = 16;
    while (n_buckets < (size_t) max_sources) {
        n_buckets *= 2;
    }
    l->buckets = calloc(n_buckets, sizeof *l->buckets);
    l->deltas = du_deltas_create(max_flows);
    l->emitter = du_emitter_create(host);
    if (!l->buckets || !l->deltas || !l->emitter) {
        du_emitter_destroy(l->emitter);
        du_deltas_destroy(l->deltas);
        free(l->buckets);
        free(l);
        return ENOMEM;
    }
    l->host = host;
    l->net = VNM_HOST_HAS(host, net) ? host->net : NULL;
    l->window_ms = window_ms;
    l->vms = vms;
    l->cap = 4 * ((size_t) vms + 1);
    l->max_sources = max_sources;
    l->severity = severity;
    l->ignore_sources = ignore_sources;
    l->mask = n_buckets - 1;
    *statep = l;
    return 0;
}

static const struct vnm_detector_ops lateral_ops = {
    .on_flow = lateral_on_flow,
    .on_tick = lateral_on_tick,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "lateral",
                  .version = "1.0", .init = lateral_init,
                  .destroy = lateral_destroy, .detector = &lateral_ops);
