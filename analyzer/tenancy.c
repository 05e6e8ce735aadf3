/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tenancy and policy: see tenancy.h.
 *
 * Each port is kept with what each source said about it (the agent's
 * inventory, the inventory file, learning) and a merged public view (struct
 * vnm_port) rebuilt when one of them changes.  Lookups by (host, name) and
 * by exact address go through two small chained hash tables rebuilt with
 * the views; prefixes (rare) are scanned.  Ports that leave the inventory
 * stay known ("gone") so that late flow records still resolve, and a port
 * that comes back counts as a restart.
 */
#include <config.h>

#include "analyzer/tenancy.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"
#include "lib/flow-codec.h"
#include "lib/log.h"

VNM_LOG_MODULE(tenancy);

enum {
    LEARN_MAX_DEFAULT = 1,      /* Addresses learned per family. */
    MAX_LIST = 64,              /* Items per list in a file or snapshot. */
};

/* A list of addresses and MACs. */
struct binding {
    uint32_t n_macs;
    uint8_t (*macs)[6];
    uint32_t n_ips;
    struct vnm_prefix *ips;
};

/* What one source says about a port: strings null if it says nothing. */
struct port_info {
    char *bridge;
    int64_t ofport;             /* -1: nothing said. */
    int64_t ifindex;            /* 0: none. */
    char *uuid;
    char *type;                 /* "vm", "internal", "tunnel"... or an OVS
                                 * interface type. */
    char *iface_id, *vm, *tenant;
    struct binding bind;        /* Declared addresses. */
    char *vlan_mode;
    int64_t tag;                /* -1: none. */
    uint32_t n_trunks;
    uint16_t *trunks;
    bool is_tunnel;
    char *tunnel_type;
    bool has_vni;
    uint32_t vni;
    struct vnm_addr remote_ip, local_ip;
};

struct tport {
    struct tport *next;         /* In 'by_name' bucket. */
    char *host_id, *name;
    bool in_inventory;          /* In its host's latest snapshot. */
    bool from_file;             /* The inventory file names it. */
    bool shadowed;              /* A file port for any host ("" host) that
                                 * a host's port of the same name stands
                                 * for. */
    struct port_info inv;       /* From the latest snapshot. */
    struct binding learned;
    uint64_t first_seen_ms, changed_ms, restarts;

    /* The merged view and the storage it points to. */
    struct vnm_port pub;
    struct binding merged;
};

/* A [port "NAME"] of the inventory file. */
struct file_port {
    char *host_id;              /* Null: any host. */
    char *name;
    struct port_info info;
};

/* An exact address -> port entry. */
struct addr_entry {
    struct addr_entry *next;
    struct vnm_addr addr;
    struct tport *port;
};

/* A service: protocol, port (0: any), address (family 0: any). */
struct service {
    uint8_t proto;              /* 0: any. */
    uint16_t port;
    struct vnm_addr addr;
};

struct protected_net {
    char *name;
    size_t n_prefixes;
    struct vnm_prefix *prefixes;
    size_t n_services;
    struct service *services;
};

struct allow_rule {
    char *name;
    char *from, *to;            /* "*" matches any tenant. */
    bool both_ways;
    size_t n_services;          /* 0: any. */
    struct service *services;
};

struct host_rec {
    char *id;
    uint64_t first_ms;          /* First snapshot applied. */
};

struct tenancy {
    /* [tenancy] */
    bool learn;
    int64_t learn_max;
    bool check_link_local;
    char *inventory_path;

    /* [policy] */
    bool isolate_tenants;
    struct protected_net *nets;
    size_t n_nets;
    struct allow_rule *allows;
    size_t n_allows;

    /* Inventory file. */
    struct file_port *file_ports;
    size_t n_file_ports;

    /* Ports. */
    struct tport **ports;
    size_t n_ports;
    struct tport **by_name;     /* Buckets. */
    size_t n_buckets;           /* Power of 2. */
    struct addr_entry **by_addr;
    struct addr_entry *addr_pool;
    size_t n_addr;
    struct tport **prefix_ports; /* Ports with a non-host prefix. */
    size_t n_prefix_ports;
    const struct vnm_port **views; /* For ports(): present ports. */
    size_t n_views;

    struct host_rec *hosts;
    size_t n_hosts;
};

static struct tenancy *current;

/* Hashing (names come from the operator, not from packets). */

static uint32_t
hash_bytes(uint32_t h, const void *p_, size_t n)
{
    const uint8_t *p = p_;

    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 16777619u;
    }
    return h;
}

static uint32_t
hash_name(const char *host_id, const char *name)
{
    uint32_t h = hash_bytes(2166136261u, host_id, strlen(host_id) + 1);

    return hash_bytes(h, name, strlen(name));
}

static uint32_t
hash_addr(const struct vnm_addr *a)
{
    return hash_bytes(hash_bytes(2166136261u, &a->family, 1), a->a,
                      vnm_addr_size(a));
}

/* Parsing helpers. */

/* Parses "ADDR" or "ADDR/LEN". */
static bool
parse_prefix(const char *s, struct vnm_prefix *p)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t) (slash - s) : strlen(s);
    unsigned int max;

    if (n >= sizeof buf) {
        return false;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    memset(p, 0, sizeof *p);
    if (!vnm_addr_parse(buf, &p->addr)) {
        return false;
    }
    max = p->addr.family == 4 ? 32 : 128;
    p->len = (uint8_t) max;
    if (slash) {
        char *end;
        unsigned long len = strtoul(slash + 1, &end, 10);

        if (!slash[1] || *end || len > max) {
            return false;
        }
        p->len = (uint8_t) len;
    }
    return true;
}

static bool
prefix_contains(const struct vnm_prefix *p, const struct vnm_addr *a)
{
    unsigned int full = p->len / 8, rest = p->len % 8;

    if (p->addr.family != a->family) {
        return false;
    }
    if (memcmp(p->addr.a, a->a, full)) {
        return false;
    }
    if (rest) {
        uint8_t mask = (uint8_t) (0xff << (8 - rest));

        return !((p->addr.a[full] ^ a->a[full]) & mask);
    }
    return true;
}

/* Splits 's' on commas and blanks; calls 'item' for each word.  Stops at
 * the first item it refuses, returning that item (malloc'd), else NULL. */
static char *
split_list(const char *s, bool (*item)(const char *, void *), void *aux)
{
    char *copy = xstrdup(s ? s : "");
    char *save = NULL;

    for (char *w = strtok_r(copy, ", \t", &save); w;
         w = strtok_r(NULL, ", \t", &save)) {
        if (!item(w, aux)) {
            char *bad = xstrdup(w);

            free(copy);
            return bad;
        }
    }
    free(copy);
    return NULL;
}

static bool
add_mac_item(const char *w, void *b_)
{
    struct binding *b = b_;
    uint8_t mac[6];

    if (!vnm_mac_parse(w, mac) || b->n_macs >= MAX_LIST) {
        return false;
    }
    b->macs = xrealloc(b->macs, (b->n_macs + 1) * sizeof *b->macs);
    memcpy(b->macs[b->n_macs++], mac, 6);
    return true;
}

static bool
add_ip_item(const char *w, void *b_)
{
    struct binding *b = b_;
    struct vnm_prefix p;

    if (!parse_prefix(w, &p) || b->n_ips >= MAX_LIST) {
        return false;
    }
    b->ips = xrealloc(b->ips, (b->n_ips + 1) * sizeof *b->ips);
    b->ips[b->n_ips++] = p;
    return true;
}

struct trunk_list {
    uint32_t n;
    uint16_t *v;
};

static bool
add_trunk_item(const char *w, void *t_)
{
    struct trunk_list *t = t_;
    char *end;
    unsigned long v = strtoul(w, &end, 10);

    if (*end || v > 4095 || t->n >= 4096) {
        return false;
    }
    t->v = xrealloc(t->v, (t->n + 1) * sizeof *t->v);
    t->v[t->n++] = (uint16_t) v;
    return true;
}

struct service_list {
    size_t n;
    struct service *v;
};

/* "udp/53", "tcp/80@169.254.169.254", "icmp", "any", "tcp". */
static bool
add_service_item(const char *w, void *l_)
{
    struct service_list *l = l_;
    struct service s = { .proto = 0 };
    char buf[96];
    char *at, *slash;

    if (strlen(w) >= sizeof buf) {
        return false;
    }
    vnm_strlcpy(buf, w, sizeof buf);
    at = strchr(buf, '@');
    if (at) {
        *at++ = '\0';
        if (!vnm_addr_parse(at, &s.addr)) {
            return false;
        }
    }
    slash = strchr(buf, '/');
    if (slash) {
        char *end;
        unsigned long port;

        *slash++ = '\0';
        port = strtoul(slash, &end, 10);
        if (!*slash || *end || port > 65535) {
            return false;
        }
        s.port = (uint16_t) port;
    }
    if (!strcmp(buf, "tcp")) {
        s.proto = 6;
    } else if (!strcmp(buf, "udp")) {
        s.proto = 17;
    } else if (!strcmp(buf, "icmp") && !slash) {
        s.proto = 1;            /* And 58: see service_matches(). */
    } else if (!strcmp(buf, "any") && !slash) {
        s.proto = 0;
    } else {
        return false;
    }
    l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n++] = s;
    return true;
}

static bool
service_matches(const struct service *s, const struct vnm_addr *ip,
                uint8_t proto, uint16_t port)
{
    if (s->addr.family && (!ip || !vnm_addr_equal(&s->addr, ip))) {
        return false;
    }
    if (!s->proto) {
        return true;
    }
    if (s->proto == 1) {
        return proto == 1 || proto == 58;
    }
    return s->proto == proto && (!s->port || s->port == port);
}

static void
binding_clear(struct binding *b)
{
    free(b->macs);
    free(b->ips);
    memset(b, 0, sizeof *b);
}

static void
info_clear(struct port_info *i)
{
    free(i->bridge);
    free(i->uuid);
    free(i->type);
    free(i->iface_id);
    free(i->vm);
    free(i->tenant);
    binding_clear(&i->bind);
    free(i->vlan_mode);
    free(i->trunks);
    free(i->tunnel_type);
    memset(i, 0, sizeof *i);
    i->ofport = -1;
    i->tag = -1;
}

static char *
nonempty_dup(const char *s)
{
    return s && *s ? xstrdup(s) : NULL;
}

/* Hosts. */

static struct host_rec *
host_find(const struct tenancy *t, const char *id)
{
    for (size_t i = 0; i < t->n_hosts; i++) {
        if (!strcmp(t->hosts[i].id, id)) {
            return &t->hosts[i];
        }
    }
    return NULL;
}

static struct host_rec *
host_get(struct tenancy *t, const char *id)
{
    struct host_rec *h = host_find(t, id);

    if (!h) {
        t->hosts = xrealloc(t->hosts, (t->n_hosts + 1) * sizeof *t->hosts);
        h = &t->hosts[t->n_hosts++];
        h->id = xstrdup(id);
        h->first_ms = 0;
    }
    return h;
}

size_t
tenancy_n_hosts(const struct tenancy *t)
{
    return t->n_hosts;
}

const char *
tenancy_host(const struct tenancy *t, size_t i)
{
    return i < t->n_hosts ? t->hosts[i].id : NULL;
}

/* Ports. */

static struct tport *
port_find(const struct tenancy *t, const char *host_id, const char *name)
{
    if (!t->n_buckets) {
        return NULL;
    }
    for (struct tport *p = t->by_name[hash_name(host_id, name)
                                      & (t->n_buckets - 1)];
         p; p = p->next) {
        if (!strcmp(p->name, name) && !strcmp(p->host_id, host_id)) {
            return p;
        }
    }
    return NULL;
}

static struct tport *
port_get(struct tenancy *t, const char *host_id, const char *name,
         uint64_t now_ms)
{
    struct tport *p = port_find(t, host_id, name);

    if (!p) {
        uint32_t h = hash_name(host_id, name) & (t->n_buckets - 1);

        p = xzalloc(sizeof *p);
        p->host_id = xstrdup(host_id);
        p->name = xstrdup(name);
        info_clear(&p->inv);
        p->first_seen_ms = now_ms;
        p->changed_ms = now_ms;
        t->ports = xrealloc(t->ports, (t->n_ports + 1) * sizeof *t->ports);
        t->ports[t->n_ports++] = p;
        /* In the hash at once; reindex() resizes it and builds the views. */
        p->next = t->by_name[h];
        t->by_name[h] = p;
    }
    return p;
}

static const struct file_port *
file_port_for(const struct tenancy *t, const char *host_id, const char *name)
{
    const struct file_port *any = NULL;

    for (size_t i = 0; i < t->n_file_ports; i++) {
        const struct file_port *f = &t->file_ports[i];

        if (!strcmp(f->name, name)) {
            if (f->host_id && !strcmp(f->host_id, host_id)) {
                return f;
            } else if (!f->host_id) {
                any = f;
            }
        }
    }
    return any;
}

static enum vnm_port_kind
kind_of(const char *type, bool is_tunnel, const char *iface_id,
        const char *vm, const char *tenant)
{
    if (type && !strcmp(type, "vm")) {
        return VNM_PORT_VM;
    } else if (type && !strcmp(type, "internal")) {
        return VNM_PORT_INTERNAL;
    } else if (type && !strcmp(type, "patch")) {
        return VNM_PORT_PATCH;
    } else if (is_tunnel || (type && !strcmp(type, "tunnel"))) {
        return VNM_PORT_TUNNEL;
    } else if (type && !strcmp(type, "uplink")) {
        return VNM_PORT_UPLINK;
    } else if ((iface_id && *iface_id) || (vm && *vm)
               || (tenant && *tenant)) {
        return VNM_PORT_VM;
    }
    return VNM_PORT_UPLINK;
}

static void
binding_append(struct binding *dst, const struct binding *src)
{
    if (src->n_macs) {
        dst->macs = xrealloc(dst->macs,
                             (dst->n_macs + src->n_macs) * sizeof *dst->macs);
        memcpy(dst->macs + dst->n_macs, src->macs,
               src->n_macs * sizeof *src->macs);
        dst->n_macs += src->n_macs;
    }
    if (src->n_ips) {
        dst->ips = xrealloc(dst->ips,
                            (dst->n_ips + src->n_ips) * sizeof *dst->ips);
        memcpy(dst->ips + dst->n_ips, src->ips,
               src->n_ips * sizeof *src->ips);
        dst->n_ips += src->n_ips;
    }
}

#define PICK(FIELD) (f && f->info.FIELD ? f->info.FIELD                 \
                     : p->inv.FIELD ? p->inv.FIELD : "")

/* Rebuilds the public view of 'p' from its sources. */
static void
port_merge(const struct tenancy *t, struct tport *p)
{
    const struct file_port *f = file_port_for(t, p->host_id, p->name);
    struct vnm_port *v = &p->pub;
    const struct binding *declared;
    const struct port_info *tun;

    p->from_file = f != NULL;
    binding_clear(&p->merged);
    memset(v, 0, sizeof *v);
    v->host_id = p->host_id;
    v->name = p->name;
    v->bridge = PICK(bridge);
    v->ofport = (int32_t) (f && f->info.ofport >= 0 ? f->info.ofport
                           : p->inv.ofport);
    v->iface_id = PICK(iface_id);
    v->vm = PICK(vm);
    v->tenant = PICK(tenant);
    v->kind = kind_of(f && f->info.type ? f->info.type : p->inv.type,
                      (f && f->info.is_tunnel) || p->inv.is_tunnel,
                      v->iface_id, v->vm, v->tenant);
    if (!p->in_inventory && !f) {
        v->kind = VNM_PORT_UNKNOWN;
    }

    /* Addresses: the file's replace the inventory's, per kind; learned
     * ones fill what neither declares. */
    declared = &p->inv.bind;
    if (f && f->info.bind.n_macs) {
        binding_append(&p->merged, &(struct binding) {
            .n_macs = f->info.bind.n_macs, .macs = f->info.bind.macs });
    } else {
        binding_append(&p->merged, &(struct binding) {
            .n_macs = declared->n_macs, .macs = declared->macs });
    }
    v->mac_source = p->merged.n_macs ? VNM_BINDING_DECLARED : VNM_BINDING_NONE;
    if (!p->merged.n_macs && p->learned.n_macs) {
        binding_append(&p->merged, &(struct binding) {
            .n_macs = p->learned.n_macs, .macs = p->learned.macs });
        v->mac_source = VNM_BINDING_LEARNED;
    }
    if (f && f->info.bind.n_ips) {
        binding_append(&p->merged, &(struct binding) {
            .n_ips = f->info.bind.n_ips, .ips = f->info.bind.ips });
    } else {
        binding_append(&p->merged, &(struct binding) {
            .n_ips = declared->n_ips, .ips = declared->ips });
    }
    v->ip_source = p->merged.n_ips ? VNM_BINDING_DECLARED : VNM_BINDING_NONE;
    if (p->learned.n_ips) {
        /* Learned per family: only families nothing declares. */
        binding_append(&p->merged, &(struct binding) {
            .n_ips = p->learned.n_ips, .ips = p->learned.ips });
        if (v->ip_source == VNM_BINDING_NONE) {
            v->ip_source = VNM_BINDING_LEARNED;
        }
    }
    v->n_macs = p->merged.n_macs;
    v->macs = (const uint8_t (*)[6]) p->merged.macs;
    v->n_ips = p->merged.n_ips;
    v->ips = p->merged.ips;

    v->vlan_mode = PICK(vlan_mode);
    v->tag = (int32_t) (f && f->info.tag >= 0 ? f->info.tag : p->inv.tag);
    if (f && f->info.n_trunks) {
        v->n_trunks = f->info.n_trunks;
        v->trunks = f->info.trunks;
    } else {
        v->n_trunks = p->inv.n_trunks;
        v->trunks = p->inv.trunks;
    }
    tun = f && f->info.is_tunnel ? &f->info : &p->inv;
    v->tunnel_type = tun->tunnel_type ? tun->tunnel_type : "";
    v->has_vni = tun->has_vni;
    v->vni = tun->vni;
    v->remote_ip = tun->remote_ip;
    v->local_ip = tun->local_ip;
    v->first_seen_ms = p->first_seen_ms;
    v->restarts = p->restarts;
    v->changed_ms = p->changed_ms;
}

/* Rebuilds every view and both indexes. */
static void
reindex(struct tenancy *t)
{
    size_t n_buckets = 16;
    size_t n_addr = 0;

    while (n_buckets < 2 * t->n_ports) {
        n_buckets *= 2;
    }
    free(t->by_name);
    t->by_name = xcalloc(n_buckets, sizeof *t->by_name);
    t->n_buckets = n_buckets;
    free(t->views);
    t->views = xcalloc(t->n_ports + 1, sizeof *t->views);
    t->n_views = 0;
    free(t->prefix_ports);
    t->prefix_ports = xcalloc(t->n_ports + 1, sizeof *t->prefix_ports);
    t->n_prefix_ports = 0;

    for (size_t i = 0; i < t->n_ports; i++) {
        struct tport *p = t->ports[i];
        uint32_t h = hash_name(p->host_id, p->name) & (n_buckets - 1);

        port_merge(t, p);
        p->next = t->by_name[h];
        t->by_name[h] = p;
        p->shadowed = false;
        if (!*p->host_id) {
            /* A file port for any host is seen through the inventories'
             * ports of that name, once there are some. */
            for (size_t j = 0; j < t->n_ports && !p->shadowed; j++) {
                p->shadowed = (*t->ports[j]->host_id
                               && !strcmp(t->ports[j]->name, p->name));
            }
        }
        if ((p->in_inventory || p->from_file) && !p->shadowed) {
            t->views[t->n_views++] = &p->pub;
        }
        n_addr += p->merged.n_ips;
    }

    free(t->by_addr);
    free(t->addr_pool);
    t->by_addr = xcalloc(n_buckets, sizeof *t->by_addr);
    t->addr_pool = xcalloc(n_addr + 1, sizeof *t->addr_pool);
    t->n_addr = 0;
    for (size_t i = 0; i < t->n_ports; i++) {
        struct tport *p = t->ports[i];
        bool has_prefix = false;

        if (p->pub.kind != VNM_PORT_VM || p->shadowed) {
            continue;
        }
        for (size_t j = 0; j < p->merged.n_ips; j++) {
            const struct vnm_prefix *pf = &p->merged.ips[j];

            if (pf->len == (pf->addr.family == 4 ? 32 : 128)) {
                struct addr_entry *e = &t->addr_pool[t->n_addr++];
                uint32_t h = hash_addr(&pf->addr) & (n_buckets - 1);

                e->addr = pf->addr;
                e->port = p;
                e->next = t->by_addr[h];
                t->by_addr[h] = e;
            } else {
                has_prefix = true;
            }
        }
        if (has_prefix) {
            t->prefix_ports[t->n_prefix_ports++] = p;
        }
    }
}

/* Lifecycle and configuration. */

struct tenancy *
tenancy_create(void)
{
    struct tenancy *t = xzalloc(sizeof *t);

    t->learn = true;
    t->learn_max = LEARN_MAX_DEFAULT;
    t->isolate_tenants = true;
    reindex(t);
    return t;
}

static void
free_file_ports(struct tenancy *t)
{
    for (size_t i = 0; i < t->n_file_ports; i++) {
        free(t->file_ports[i].host_id);
        free(t->file_ports[i].name);
        info_clear(&t->file_ports[i].info);
    }
    free(t->file_ports);
    t->file_ports = NULL;
    t->n_file_ports = 0;
}

void
tenancy_destroy(struct tenancy *t)
{
    if (!t) {
        return;
    }
    if (current == t) {
        current = NULL;
    }
    for (size_t i = 0; i < t->n_ports; i++) {
        struct tport *p = t->ports[i];

        free(p->host_id);
        free(p->name);
        info_clear(&p->inv);
        binding_clear(&p->learned);
        binding_clear(&p->merged);
        free(p);
    }
    free(t->ports);
    free(t->by_name);
    free(t->by_addr);
    free(t->addr_pool);
    free(t->prefix_ports);
    free(t->views);
    free_file_ports(t);
    for (size_t i = 0; i < t->n_nets; i++) {
        free(t->nets[i].name);
        free(t->nets[i].prefixes);
        free(t->nets[i].services);
    }
    free(t->nets);
    for (size_t i = 0; i < t->n_allows; i++) {
        free(t->allows[i].name);
        free(t->allows[i].from);
        free(t->allows[i].to);
        free(t->allows[i].services);
    }
    free(t->allows);
    for (size_t i = 0; i < t->n_hosts; i++) {
        free(t->hosts[i].id);
    }
    free(t->hosts);
    free(t->inventory_path);
    free(t);
}

/* Reads a list-valued key 'key' of 'conf' with 'item'. */
static char *
get_list(const struct vnm_conf *conf, const char *key,
         bool (*item)(const char *, void *), void *aux, const char *what)
{
    const char *s;
    char *error = vnm_conf_get_string(conf, key, "", &s);
    char *bad;

    if (error) {
        return error;
    }
    bad = split_list(s, item, aux);
    if (bad) {
        error = vnm_conf_error(conf, key, "\"%s\" is not %s", bad, what);
        free(bad);
    }
    return error;
}

struct prefix_list {
    size_t n;
    struct vnm_prefix *v;
};

static bool
add_prefix_item(const char *w, void *l_)
{
    struct prefix_list *l = l_;
    struct vnm_prefix p;

    if (!parse_prefix(w, &p)) {
        return false;
    }
    l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n++] = p;
    return true;
}

static char *
read_protected(struct tenancy *t, const struct vnm_conf *conf)
{
    struct prefix_list prefixes = { 0, NULL };
    struct service_list services = { 0, NULL };
    struct protected_net *n;
    char *error;

    if ((error = get_list(conf, "prefixes", add_prefix_item, &prefixes,
                          "an address or ADDRESS/LENGTH"))
        || (error = get_list(conf, "services", add_service_item, &services,
                             "a service (udp/53, tcp/80@ADDRESS, icmp, "
                             "any)"))
        || (error = vnm_conf_check_unused(conf))) {
        free(prefixes.v);
        free(services.v);
        return error;
    }
    if (!prefixes.n) {
        free(services.v);
        return vnm_conf_error(conf, "prefixes", "a protected network needs "
                              "at least one prefix");
    }
    t->nets = xrealloc(t->nets, (t->n_nets + 1) * sizeof *t->nets);
    n = &t->nets[t->n_nets++];
    n->name = xstrdup(vnm_conf_name(conf));
    n->n_prefixes = prefixes.n;
    n->prefixes = prefixes.v;
    n->n_services = services.n;
    n->services = services.v;
    return NULL;
}

static char *
read_allow(struct tenancy *t, const struct vnm_conf *conf)
{
    struct service_list services = { 0, NULL };
    const char *from, *to;
    bool both_ways;
    struct allow_rule *r;
    char *error;

    if ((error = vnm_conf_get_string(conf, "from", "", &from))
        || (error = vnm_conf_get_string(conf, "to", "", &to))
        || (error = vnm_conf_get_bool(conf, "both_ways", false, &both_ways))
        || (error = get_list(conf, "services", add_service_item, &services,
                             "a service (tcp/443, udp/53, icmp, any)"))
        || (error = vnm_conf_check_unused(conf))) {
        free(services.v);
        return error;
    }
    if (!*from || !*to) {
        free(services.v);
        return vnm_conf_error(conf, *from ? "to" : "from",
                              "an allow rule needs both from and to "
                              "(a tenant, or *)");
    }
    t->allows = xrealloc(t->allows, (t->n_allows + 1) * sizeof *t->allows);
    r = &t->allows[t->n_allows++];
    r->name = xstrdup(vnm_conf_name(conf));
    r->from = xstrdup(from);
    r->to = xstrdup(to);
    r->both_ways = both_ways;
    r->n_services = services.n;
    r->services = services.v;
    return NULL;
}

char *
tenancy_configure(struct tenancy *t, const struct vnm_config *config)
{
    const struct vnm_conf *ten = vnm_config_section(config, "tenancy", NULL);
    const struct vnm_conf *pol = vnm_config_section(config, "policy", NULL);
    const char *learn, *inventory;
    char *error;

    if ((error = vnm_conf_get_string(ten, "learn", "first", &learn))
        || (error = vnm_conf_get_int(ten, "learn_max", LEARN_MAX_DEFAULT, 1,
                                     MAX_LIST, &t->learn_max))
        || (error = vnm_conf_get_bool(ten, "check_link_local", false,
                                      &t->check_link_local))
        || (error = vnm_conf_get_string(ten, "inventory", "", &inventory))
        || (error = vnm_conf_get_bool(pol, "isolate_tenants", true,
                                      &t->isolate_tenants))) {
        return error;
    }
    if (!strcmp(learn, "first")) {
        t->learn = true;
    } else if (!strcmp(learn, "off")) {
        t->learn = false;
    } else {
        return vnm_conf_error(ten, "learn", "\"%s\": must be first or off",
                              learn);
    }
    if (ten && (error = vnm_conf_check_unused(ten))) {
        return error;
    }
    if (pol && (error = vnm_conf_check_unused(pol))) {
        return error;
    }
    for (const struct vnm_conf *c = vnm_config_next(config, NULL); c;
         c = vnm_config_next(config, c)) {
        const char *kind = vnm_conf_kind(c);

        if (!vnm_conf_name(c)) {
            continue;
        }
        if (!strcmp(kind, "protected")) {
            error = read_protected(t, c);
        } else if (!strcmp(kind, "allow")) {
            error = read_allow(t, c);
        }
        if (error) {
            return error;
        }
    }
    if (*inventory) {
        FILE *stream = fopen(inventory, "r");
        char *text = NULL;
        size_t size = 0;
        char buf[4096];
        size_t n;
        FILE *mem;

        if (!stream) {
            return vnm_conf_error(ten, "inventory", "%s: cannot open (%s)",
                                  inventory, strerror(errno));
        }
        mem = open_memstream(&text, &size);
        while ((n = fread(buf, 1, sizeof buf, stream)) > 0) {
            fwrite(buf, 1, n, mem);
        }
        fclose(mem);
        fclose(stream);
        t->inventory_path = xstrdup(inventory);
        error = tenancy_load_inventory(t, inventory, text);
        free(text);
        if (error) {
            return error;
        }
    }
    return NULL;
}

static char *
read_file_port(const struct vnm_conf *conf, struct file_port *f)
{
    const char *host, *type, *s;
    int64_t ofport, tag, vni;
    struct trunk_list trunks = { 0, NULL };
    char *error;

    info_clear(&f->info);
    f->name = xstrdup(vnm_conf_name(conf));
    if ((error = vnm_conf_get_string(conf, "host", "", &host))) {
        return error;
    }
    f->host_id = nonempty_dup(host);
    if ((error = vnm_conf_get_string(conf, "type", "", &type))) {
        return error;
    }
    if (*type && strcmp(type, "vm") && strcmp(type, "internal")
        && strcmp(type, "tunnel") && strcmp(type, "patch")
        && strcmp(type, "uplink")) {
        return vnm_conf_error(conf, "type", "\"%s\": must be vm, internal, "
                              "tunnel, patch or uplink", type);
    }
    f->info.type = nonempty_dup(type);
    f->info.is_tunnel = !strcmp(type, "tunnel");
#define GET_STR(KEY, FIELD)                                             \
    if ((error = vnm_conf_get_string(conf, KEY, "", &s))) {             \
        return error;                                                   \
    }                                                                   \
    f->info.FIELD = nonempty_dup(s)
    GET_STR("tenant", tenant);
    GET_STR("vm", vm);
    GET_STR("iface_id", iface_id);
    GET_STR("bridge", bridge);
    GET_STR("vlan_mode", vlan_mode);
#undef GET_STR
    if ((error = vnm_conf_get_int(conf, "ofport", -1, -1, 65535, &ofport))
        || (error = vnm_conf_get_int(conf, "tag", -1, -1, 4095, &tag))
        || (error = vnm_conf_get_int(conf, "vni", -1, -1, UINT32_MAX,
                                     &vni))
        || (error = get_list(conf, "macs", add_mac_item, &f->info.bind,
                             "a MAC address"))
        || (error = get_list(conf, "ips", add_ip_item, &f->info.bind,
                             "an address or ADDRESS/LENGTH"))
        || (error = get_list(conf, "trunks", add_trunk_item, &trunks,
                             "a VLAN id (0..4095)"))) {
        free(trunks.v);
        return error;
    }
    f->info.ofport = ofport;
    f->info.tag = tag;
    f->info.n_trunks = trunks.n;
    f->info.trunks = trunks.v;
    if (vni >= 0) {
        f->info.has_vni = true;
        f->info.vni = (uint32_t) vni;
    }
    if ((error = vnm_conf_get_string(conf, "tunnel_type", "", &s))) {
        return error;
    }
    if (*s) {
        f->info.tunnel_type = xstrdup(s);
        f->info.is_tunnel = true;
    }
    if ((error = vnm_conf_get_string(conf, "remote_ip", "", &s))) {
        return error;
    }
    if (*s && !vnm_addr_parse(s, &f->info.remote_ip)) {
        return vnm_conf_error(conf, "remote_ip", "\"%s\" is not an IP "
                              "address", s);
    }
    if ((error = vnm_conf_get_string(conf, "local_ip", "", &s))) {
        return error;
    }
    if (*s && !vnm_addr_parse(s, &f->info.local_ip)) {
        return vnm_conf_error(conf, "local_ip", "\"%s\" is not an IP "
                              "address", s);
    }
    return vnm_conf_check_unused(conf);
}

char *
tenancy_load_inventory(struct tenancy *t, const char *file_name,
                       const char *text)
{
    struct vnm_config *config;
    struct file_port *ports = NULL;
    size_t n = 0;
    char *error = vnm_config_parse_string(text, file_name, &config);

    if (error) {
        return error;
    }
    for (const struct vnm_conf *c = vnm_config_next(config, NULL); c;
         c = vnm_config_next(config, c)) {
        if (strcmp(vnm_conf_kind(c), "port") || !vnm_conf_name(c)) {
            error = xasprintf("%s:%d: [%s]: unknown section (an inventory "
                              "file has [port \"NAME\"] sections only)",
                              file_name, vnm_conf_line(c), vnm_conf_kind(c));
            break;
        }
        ports = xrealloc(ports, (n + 1) * sizeof *ports);
        memset(&ports[n], 0, sizeof ports[n]);
        error = read_file_port(c, &ports[n]);
        n++;
        if (error) {
            break;
        }
    }
    vnm_config_destroy(config);
    if (error) {
        for (size_t i = 0; i < n; i++) {
            free(ports[i].host_id);
            free(ports[i].name);
            info_clear(&ports[i].info);
        }
        free(ports);
        return error;
    }
    free_file_ports(t);
    t->file_ports = ports;
    t->n_file_ports = n;
    /* File ports with a host become ports of that host at once; those for
     * any host attach to ports of that name as inventories name them. */
    for (size_t i = 0; i < n; i++) {
        const char *host = ports[i].host_id ? ports[i].host_id : "";

        port_get(t, host, ports[i].name, 0);
        if (ports[i].host_id) {
            host_get(t, ports[i].host_id);
        }
    }
    reindex(t);
    return NULL;
}

/* Inventory snapshots. */

static const char *
jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void
info_from_json(const json_t *iface, struct port_info *i)
{
    const json_t *tunnel = json_object_get(iface, "tunnel");
    const json_t *v;
    size_t k;
    const char *s;

    memset(i, 0, sizeof *i);    /* 'i' is uninitialised. */
    i->bridge = nonempty_dup(jstr(iface, "bridge"));
    i->uuid = nonempty_dup(jstr(iface, "uuid"));
    i->type = nonempty_dup(jstr(iface, "type"));
    i->iface_id = nonempty_dup(jstr(iface, "iface_id"));
    i->vm = nonempty_dup(jstr(iface, "vm"));
    i->tenant = nonempty_dup(jstr(iface, "tenant"));
    i->vlan_mode = nonempty_dup(jstr(iface, "vlan_mode"));
    v = json_object_get(iface, "ofport");
    i->ofport = json_is_integer(v) ? json_integer_value(v) : -1;
    v = json_object_get(iface, "ifindex");
    i->ifindex = json_is_integer(v) ? json_integer_value(v) : 0;
    v = json_object_get(iface, "tag");
    i->tag = json_is_integer(v) ? json_integer_value(v) : -1;
    json_array_foreach (json_object_get(iface, "trunks"), k, v) {
        if (json_is_integer(v) && i->n_trunks < 4096) {
            i->trunks = xrealloc(i->trunks,
                                 (i->n_trunks + 1) * sizeof *i->trunks);
            i->trunks[i->n_trunks++] = (uint16_t) json_integer_value(v);
        }
    }
    if ((s = jstr(iface, "attached_mac"))) {
        add_mac_item(s, &i->bind);
    }
    json_array_foreach (json_object_get(iface, "ips"), k, v) {
        if (json_string_value(v)) {
            add_ip_item(json_string_value(v), &i->bind);
        }
    }
    if (json_is_object(tunnel)) {
        i->is_tunnel = true;
        i->tunnel_type = nonempty_dup(jstr(tunnel, "type"));
        v = json_object_get(tunnel, "vni");
        if (json_is_integer(v)) {
            i->has_vni = true;
            i->vni = (uint32_t) json_integer_value(v);
        }
        if ((s = jstr(tunnel, "remote_ip"))) {
            vnm_addr_parse(s, &i->remote_ip);
        }
        if ((s = jstr(tunnel, "local_ip"))) {
            vnm_addr_parse(s, &i->local_ip);
        }
    }
}

void
tenancy_update_inventory(struct tenancy *t, const char *host_id,
                         const json_t *snapshot, uint64_t now_ms)
{
    struct host_rec *h = host_get(t, host_id);
    bool first = !h->first_ms;
    const json_t *iface;
    size_t i;

    if (!json_is_true(json_object_get(snapshot, "synced")) && !first) {
        return;                 /* Keep the last known state. */
    }
    for (size_t j = 0; j < t->n_ports; j++) {
        if (!strcmp(t->ports[j]->host_id, host_id)) {
            t->ports[j]->in_inventory = false;
        }
    }
    json_array_foreach (json_object_get(snapshot, "interfaces"), i, iface) {
        const char *name = jstr(iface, "name");
        struct port_info info;
        struct tport *p;
        bool known, restarted = false;

        if (!name || !*name) {
            continue;
        }
        p = port_get(t, host_id, name, first ? 0 : now_ms);
        known = p->inv.uuid != NULL;
        info_from_json(iface, &info);
        if (known) {
            restarted = ((info.uuid && strcmp(info.uuid, p->inv.uuid))
                         || (info.ifindex && p->inv.ifindex
                             && info.ifindex != p->inv.ifindex)
                         || (info.ofport >= 0 && p->inv.ofport >= 0
                             && info.ofport != p->inv.ofport));
        } else if (p->restarts || p->inv.ofport != -1) {
            restarted = true;   /* Gone, then back. */
        }
        if (restarted) {
            p->restarts++;
            p->changed_ms = now_ms;
            VNM_INFO("port %s of host %s restarted (%"PRIu64" times)",
                     name, host_id, p->restarts);
        }
        /* Keep the last known numbers while OVS has not written them. */
        if (known && info.ofport < 0) {
            info.ofport = p->inv.ofport;
        }
        if (known && !info.ifindex) {
            info.ifindex = p->inv.ifindex;
        }
        info_clear(&p->inv);
        p->inv = info;
        p->in_inventory = true;
    }
    /* A port that left keeps its last info but for its uuid, so that its
     * return counts as a restart. */
    for (size_t j = 0; j < t->n_ports; j++) {
        struct tport *p = t->ports[j];

        if (!strcmp(p->host_id, host_id) && !p->in_inventory
            && p->inv.uuid) {
            free(p->inv.uuid);
            p->inv.uuid = NULL;
            if (p->inv.ofport < 0) {
                p->inv.ofport = 0;      /* Marks "was there". */
            }
        }
    }
    if (first) {
        h->first_ms = now_ms ? now_ms : 1;
    }
    reindex(t);
}

/* Learning. */

static bool
is_link_local6(const struct vnm_addr *a)
{
    return a->family == 6 && a->a[0] == 0xfe && (a->a[1] & 0xc0) == 0x80;
}

static bool
is_unspecified(const struct vnm_addr *a)
{
    static const uint8_t zero[16];

    return !a->family || !memcmp(a->a, zero, vnm_addr_size(a));
}

static bool
is_multicast_mac(const uint8_t mac[6])
{
    return mac[0] & 1;
}

static bool
is_learnable_ip(const struct vnm_addr *a)
{
    if (is_unspecified(a) || is_link_local6(a)) {
        return false;
    }
    if (a->family == 4) {
        return a->a[0] < 224 && a->a[0] != 127
               && !(a->a[0] == 169 && a->a[1] == 254);
    }
    return a->a[0] != 0xff;
}

static size_t
n_ips_of_family(const struct binding *b, uint8_t family)
{
    size_t n = 0;

    for (size_t i = 0; i < b->n_ips; i++) {
        n += b->ips[i].addr.family == family;
    }
    return n;
}

/* What the inventory file, else the agent's inventory, declares of 'p''s
 * addresses. */
static const struct binding *
declared_binding(const struct tenancy *t, const struct tport *p)
{
    const struct file_port *f = file_port_for(t, p->host_id, p->name);

    return f && f->info.bind.n_ips ? &f->info.bind : &p->inv.bind;
}

/* Learns what the side 'end' sent, if it entered on a VM port. */
static bool
learn_end(struct tenancy *t, const char *host_id,
          const struct vnm_flow *f, const struct vnm_flow_end *end,
          const struct vnm_flow_ctl *ctl)
{
    struct tport *p;
    bool learned = false;

    if (!end->packets || !end->in.port[0]) {
        return false;
    }
    p = port_find(t, host_id, end->in.port);
    if (!p || p->pub.kind != VNM_PORT_VM) {
        return false;
    }
    if (p->pub.mac_source == VNM_BINDING_NONE && !p->learned.n_macs
        && !is_multicast_mac(end->mac)) {
        char mac[18];

        p->learned.macs = xrealloc(p->learned.macs,
                                   (p->learned.n_macs + 1)
                                   * sizeof *p->learned.macs);
        memcpy(p->learned.macs[p->learned.n_macs++], end->mac, 6);
        vnm_mac_format(end->mac, mac);
        learned = true;
        VNM_INFO("port %s of host %s: learned MAC %s", p->name, host_id, mac);
    }
    /* IPs: from ARP (sender address) or from the source of IP traffic;
     * a gratuitous ARP does not teach. */
    if (end->ip.family && is_learnable_ip(&end->ip)
        && !(f->eth_type == 0x0806 && (ctl->arp & VNM_ARP_GRATUITOUS))) {
        const struct binding *declared = declared_binding(t, p);
        uint8_t fam = end->ip.family;

        if (!n_ips_of_family(declared, fam)
            && n_ips_of_family(&p->learned, fam) < (size_t) t->learn_max) {
            bool have = false;

            for (size_t i = 0; i < p->learned.n_ips; i++) {
                have = have || prefix_contains(&p->learned.ips[i], &end->ip);
            }
            if (!have) {
                char buf[64];

                p->learned.ips = xrealloc(p->learned.ips,
                                          (p->learned.n_ips + 1)
                                          * sizeof *p->learned.ips);
                p->learned.ips[p->learned.n_ips++] = (struct vnm_prefix) {
                    .addr = end->ip, .len = fam == 4 ? 32 : 128 };
                learned = true;
                VNM_INFO("port %s of host %s: learned address %s", p->name,
                         host_id, vnm_addr_format(&end->ip, buf, sizeof buf));
            }
        }
    }
    return learned;
}

bool
tenancy_learn(struct tenancy *t, const struct vnm_flow *flow,
              uint64_t now_ms)
{
    bool learned;

    if (!t->learn) {
        return false;
    }
    learned = learn_end(t, flow->host, flow, &flow->src, &flow->src_ctl);
    learned |= learn_end(t, flow->host, flow, &flow->dst, &flow->dst_ctl);
    if (learned) {
        reindex(t);
    }
    return learned;
}

json_t *
tenancy_learned_to_json(const struct tenancy *t, const char *host_id)
{
    json_t *o = json_object();

    for (size_t i = 0; i < t->n_ports; i++) {
        const struct tport *p = t->ports[i];
        json_t *macs, *ips;

        if (strcmp(p->host_id, host_id)
            || (!p->learned.n_macs && !p->learned.n_ips)) {
            continue;
        }
        macs = json_array();
        ips = json_array();
        for (size_t j = 0; j < p->learned.n_macs; j++) {
            char mac[18];

            vnm_mac_format(p->learned.macs[j], mac);
            json_array_append_new(macs, json_string(mac));
        }
        for (size_t j = 0; j < p->learned.n_ips; j++) {
            char buf[64];

            json_array_append_new(ips, json_string(
                                      vnm_addr_format(&p->learned.ips[j].addr,
                                                      buf, sizeof buf)));
        }
        json_object_set_new(o, p->name, json_pack("{s:o, s:o}", "macs", macs,
                                                   "ips", ips));
    }
    return o;
}

void
tenancy_learned_from_json(struct tenancy *t, const char *host_id,
                          const json_t *learned)
{
    const char *name;
    const json_t *v;

    json_object_foreach ((json_t *) learned, name, v) {
        struct tport *p = port_get(t, host_id, name, 0);
        const json_t *x;
        size_t k;

        binding_clear(&p->learned);
        json_array_foreach (json_object_get(v, "macs"), k, x) {
            if (json_string_value(x)) {
                add_mac_item(json_string_value(x), &p->learned);
            }
        }
        json_array_foreach (json_object_get(v, "ips"), k, x) {
            if (json_string_value(x)) {
                add_ip_item(json_string_value(x), &p->learned);
            }
        }
    }
    reindex(t);
}

/* The services lent to detectors. */

static const struct vnm_port *
net_port(const struct vnm_host *h, const char *host_id, const char *name)
{
    struct tenancy *t = current;
    struct tport *p;

    if (!t || !name || !*name) {
        return NULL;
    }
    if (host_id && *host_id) {
        p = port_find(t, host_id, name);
        if (!p) {
            p = port_find(t, "", name);   /* A file port for any host. */
        }
        return p ? &p->pub : NULL;
    }
    for (size_t i = 0; i < t->n_ports; i++) {
        if (!strcmp(t->ports[i]->name, name)) {
            return &t->ports[i]->pub;
        }
    }
    return NULL;
}

static bool
host_matches(const struct tport *p, const char *host_id)
{
    return !host_id || !*host_id || !*p->host_id
           || !strcmp(p->host_id, host_id);
}

static const struct vnm_port *
net_port_by_ip(const struct vnm_host *h, const char *host_id,
               const struct vnm_addr *ip)
{
    struct tenancy *t = current;

    if (!t || !ip->family || !t->n_buckets) {
        return NULL;
    }
    for (const struct addr_entry *e = t->by_addr[hash_addr(ip)
                                                 & (t->n_buckets - 1)];
         e; e = e->next) {
        if (vnm_addr_equal(&e->addr, ip) && host_matches(e->port, host_id)) {
            return &e->port->pub;
        }
    }
    for (size_t i = 0; i < t->n_prefix_ports; i++) {
        const struct tport *p = t->prefix_ports[i];

        if (!host_matches(p, host_id)) {
            continue;
        }
        for (size_t j = 0; j < p->merged.n_ips; j++) {
            if (prefix_contains(&p->merged.ips[j], ip)) {
                return &p->pub;
            }
        }
    }
    return NULL;
}

static const struct vnm_port *
net_port_by_mac(const struct vnm_host *h, const char *host_id,
                const uint8_t mac[6])
{
    struct tenancy *t = current;

    if (!t) {
        return NULL;
    }
    for (size_t i = 0; i < t->n_ports; i++) {
        const struct tport *p = t->ports[i];

        if (p->pub.kind != VNM_PORT_VM || p->shadowed
            || !host_matches(p, host_id)) {
            continue;
        }
        for (size_t j = 0; j < p->merged.n_macs; j++) {
            if (!memcmp(p->merged.macs[j], mac, 6)) {
                return &p->pub;
            }
        }
    }
    return NULL;
}

static size_t
net_ports(const struct vnm_host *h, const char *host_id,
          const struct vnm_port *const **portsp)
{
    struct tenancy *t = current;
    static const struct vnm_port **buf;
    static size_t buf_n;
    size_t n = 0;

    *portsp = NULL;
    if (!t) {
        return 0;
    }
    if (!host_id || !*host_id) {
        *portsp = t->views;
        return t->n_views;
    }
    if (buf_n < t->n_views) {
        buf_n = t->n_views;
        buf = xrealloc(buf, buf_n * sizeof *buf);
    }
    for (size_t i = 0; i < t->n_views; i++) {
        if (!strcmp(t->views[i]->host_id, host_id)
            || !*t->views[i]->host_id) {
            buf[n++] = t->views[i];
        }
    }
    *portsp = buf;
    return n;
}

static const struct protected_net *
protected_find(const struct tenancy *t, const struct vnm_addr *ip)
{
    for (size_t i = 0; t && i < t->n_nets; i++) {
        for (size_t j = 0; j < t->nets[i].n_prefixes; j++) {
            if (prefix_contains(&t->nets[i].prefixes[j], ip)) {
                return &t->nets[i];
            }
        }
    }
    return NULL;
}

static const char *
net_protected(const struct vnm_host *h, const struct vnm_addr *ip)
{
    const struct protected_net *n = protected_find(current, ip);

    return n ? n->name : NULL;
}

static bool
net_host_service(const struct vnm_host *h, const struct vnm_addr *ip,
                 uint8_t ip_proto, uint16_t port)
{
    struct tenancy *t = current;

    for (size_t i = 0; t && i < t->n_nets; i++) {
        const struct protected_net *n = &t->nets[i];
        bool inside = false;

        for (size_t j = 0; j < n->n_prefixes; j++) {
            inside = inside || prefix_contains(&n->prefixes[j], ip);
        }
        for (size_t j = 0; j < n->n_services; j++) {
            const struct service *s = &n->services[j];

            /* A service with its own address applies there only; one
             * without applies inside the network's prefixes. */
            if ((s->addr.family || inside)
                && service_matches(s, ip, ip_proto, port)) {
                return true;
            }
        }
    }
    return false;
}

static bool
tenant_matches(const char *pattern, const char *tenant)
{
    return !strcmp(pattern, "*") || !strcmp(pattern, tenant);
}

static bool
net_tenants_allowed(const struct vnm_host *h, const char *from,
                    const char *to, uint8_t ip_proto, uint16_t port)
{
    struct tenancy *t = current;

    if (!from || !to || !strcmp(from, to)) {
        return true;
    }
    if (!t || !t->isolate_tenants) {
        return true;
    }
    for (size_t i = 0; i < t->n_allows; i++) {
        const struct allow_rule *r = &t->allows[i];
        bool dir = ((tenant_matches(r->from, from)
                     && tenant_matches(r->to, to))
                    || (r->both_ways && tenant_matches(r->from, to)
                        && tenant_matches(r->to, from)));

        if (!dir) {
            continue;
        }
        if (!r->n_services) {
            return true;
        }
        for (size_t j = 0; j < r->n_services; j++) {
            if (service_matches(&r->services[j], NULL, ip_proto, port)) {
                return true;
            }
        }
    }
    return false;
}

static bool
net_mac_allowed(const struct vnm_host *h, const struct vnm_port *port,
                const uint8_t mac[6])
{
    if (is_multicast_mac(mac)) {
        return false;           /* Never a valid source. */
    }
    if (!port || port->mac_source == VNM_BINDING_NONE) {
        return true;
    }
    for (size_t i = 0; i < port->n_macs; i++) {
        if (!memcmp(port->macs[i], mac, 6)) {
            return true;
        }
    }
    return false;
}

static bool
net_ip_allowed(const struct vnm_host *h, const struct vnm_port *port,
               const struct vnm_addr *ip)
{
    struct tenancy *t = current;

    if (!ip->family || is_unspecified(ip)) {
        return true;            /* DHCP discover, DAD. */
    }
    if (is_link_local6(ip) && !(t && t->check_link_local)) {
        return true;
    }
    if (!port || port->ip_source == VNM_BINDING_NONE) {
        return true;
    }
    for (size_t i = 0; i < port->n_ips; i++) {
        if (prefix_contains(&port->ips[i], ip)) {
            return true;
        }
    }
    /* A family the binding does not cover at all is unbound, not forged,
     * unless learning is off (then the declaration is all there is). */
    if (!n_ips_of_family(&(struct binding) {
                .n_ips = port->n_ips,
                .ips = (struct vnm_prefix *) port->ips }, ip->family)
        && t && t->learn) {
        return true;
    }
    return false;
}

static const struct vnm_net_ops net_ops = {
    .port = net_port,
    .port_by_ip = net_port_by_ip,
    .port_by_mac = net_port_by_mac,
    .ports = net_ports,
    .protected_net = net_protected,
    .host_service = net_host_service,
    .tenants_allowed = net_tenants_allowed,
    .mac_allowed = net_mac_allowed,
    .ip_allowed = net_ip_allowed,
};

const struct vnm_net_ops *
tenancy_net_ops(struct tenancy *t)
{
    current = t;
    return &net_ops;
}
