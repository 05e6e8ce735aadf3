/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's bandwidth glue: see agent-bw.h.
 */
#include <config.h>

#include "collector/agent-bw.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/conf.h"
#include "lib/log.h"
#include "lib/redis.h"
#include "lib/util.h"
#include "ovs-ext/inventory.h"
#include "ovs-ext/pipeline.h"
#include "ovs-ext/port-map.h"

VNM_LOG_MODULE(collector);

struct agent_bw {
    struct agent_bw_config cfg;
    char *host;
    struct vnm_redis *redis;
    struct bw *bw;
    struct pipeline *pipeline;
    struct pipeline_bw callbacks;
    uint64_t n_recent;          /* Records pushed to recent lists. */
};

char *
agent_bw_config_read(const struct vnm_conf *c, struct agent_bw_config *cfg)
{
    char *error = bw_config_read(c, &cfg->bw);

    if (!error) {
        error = vnm_conf_get_int(c, "recent_flows", 100, 0, 100000,
                                 &cfg->recent_flows);
    }
    if (!error) {
        error = vnm_conf_get_duration(c, "recent_flows_ttl", 86400 * 1000,
                                      60 * 1000, 400LL * 86400 * 1000,
                                      &cfg->recent_flows_ttl);
        cfg->recent_flows_ttl /= 1000;
    }
    return error;
}

/* Port kinds, as bw.h names them. */
static const char *
port_kind(const struct inv_interface *iface)
{
    if (iface->tunnel_type != INV_TUNNEL_NONE) {
        return "tunnel";
    } else if (!strcmp(iface->type, "internal")) {
        return "internal";
    } else if (!strcmp(iface->type, "patch")) {
        return "patch";
    } else if (iface->vm[0] || iface->iface_id[0]) {
        return "vm";
    }
    return "uplink";
}

static void
fill_port(const struct inv_interface *iface, struct bw_port *out)
{
    out->name = iface->name;
    out->vm = iface->vm;
    out->tenant = iface->tenant;
    out->kind = port_kind(iface);
    out->link_speed = iface->link_speed > 0 ? (uint64_t) iface->link_speed
                                            : 0;
}

static bool
resolve(void *ab_, uint32_t port_id, const struct vnm_addr *ip,
        struct bw_port *out)
{
    struct agent_bw *ab = ab_;
    const struct inventory *inv;
    const struct inv_interface *iface = NULL;

    if (!ab->pipeline) {
        return false;
    }
    inv = pipeline_inventory(ab->pipeline);
    if (port_id) {
        const struct port_info *pi = pipeline_port(ab->pipeline, port_id);

        if (pi) {
            iface = inventory_find_by_name(inv, pi->attr.port);
            if (!iface) {
                /* Gone from the inventory: what the map remembers. */
                out->name = pi->attr.port;
                out->vm = pi->attr.vm;
                out->tenant = pi->attr.tenant;
                out->kind = pi->is_vm ? "vm" : "uplink";
                out->link_speed = 0;
                return true;
            }
        }
    } else if (ip && ip->family) {
        iface = inventory_find_by_ip(inv, ip);
    }
    if (!iface) {
        return false;
    }
    fill_port(iface, out);
    return true;
}

static void
on_delta(void *ab_, const struct flow_bw_delta *d)
{
    struct agent_bw *ab = ab_;

    bw_add(ab->bw, d);
}

static void
on_close(void *ab_, uint64_t sec)
{
    struct agent_bw *ab = ab_;

    bw_close_second(ab->bw, sec);
}

struct agent_bw *
agent_bw_create(const struct agent_bw_config *cfg, const char *host,
                struct vnm_redis *redis)
{
    struct agent_bw *ab = xzalloc(sizeof *ab);

    ab->cfg = *cfg;
    ab->host = xstrdup(host);
    ab->redis = redis;
    ab->bw = bw_create(&cfg->bw, host, resolve, ab);
    ab->callbacks.delta = on_delta;
    ab->callbacks.close = on_close;
    ab->callbacks.aux = ab;
    return ab;
}

void
agent_bw_destroy(struct agent_bw *ab)
{
    if (!ab) {
        return;
    }
    if (vnm_redis_is_connected(ab->redis)) {
        bw_finish(ab->bw, ab->redis);
    }
    bw_destroy(ab->bw);
    free(ab->host);
    free(ab);
}

const struct pipeline_bw *
agent_bw_callbacks(struct agent_bw *ab)
{
    return &ab->callbacks;
}

void
agent_bw_set_pipeline(struct agent_bw *ab, struct pipeline *p)
{
    ab->pipeline = p;
}

/* Samples every interface's OVSDB counters. */
static void
sample_ovs(struct agent_bw *ab, uint64_t sec)
{
    const struct inventory *inv = pipeline_inventory(ab->pipeline);

    if (!inv || !inventory_is_synced(inv)) {
        return;
    }
    for (size_t i = 0; i < inventory_n_interfaces(inv); i++) {
        const struct inv_interface *iface = inventory_interface(inv, i);
        const struct inv_stats *s = &iface->stats;
        struct bw_ovs_counters c = {
            .rx_packets = s->rx_packets, .rx_bytes = s->rx_bytes,
            .rx_dropped = s->rx_dropped, .rx_errors = s->rx_errors,
            .tx_packets = s->tx_packets, .tx_bytes = s->tx_bytes,
            .tx_dropped = s->tx_dropped, .tx_errors = s->tx_errors,
        };
        struct bw_port port;

        if (!strncmp(iface->name, "vnm-mon-", 8)) {
            continue;           /* The flow tap's own monitor port. */
        }
        fill_port(iface, &port);
        bw_ovs_sample(ab->bw, sec, &port, &c);
    }
}

void
agent_bw_tick(struct agent_bw *ab, uint64_t now_ms)
{
    if (ab->pipeline) {
        sample_ovs(ab, now_ms / 1000);
    }
    bw_flush(ab->bw, ab->redis, now_ms);
}

/* Pushes 'json' onto the recent flows of the VM of 'in'. */
static void
push_recent(struct agent_bw *ab, const struct vnm_attribution *in,
            const char *json, size_t len)
{
    char *prefix, *vm, *key;
    char keep[24], ttl[24];

    if (!in->vm[0]) {
        return;
    }
    prefix = bw_prefix(ab->host, in->tenant);
    vm = bw_escape(in->vm);
    key = xasprintf("%s:flows:vm:%s", prefix, vm);
    snprintf(keep, sizeof keep, "%"PRId64, ab->cfg.recent_flows - 1);
    snprintf(ttl, sizeof ttl, "%"PRId64, ab->cfg.recent_flows_ttl);
    {
        const char *argv[] = { "LPUSH", key, json };
        size_t argvlen[] = { 5, strlen(key), len };

        vnm_redis_append_argv(ab->redis, 3, argv, argvlen);
    }
    vnm_redis_append(ab->redis, "LTRIM %s 0 %s", key, keep);
    vnm_redis_append(ab->redis, "EXPIRE %s %s", key, ttl);
    ab->n_recent++;
    free(key);
    free(vm);
    free(prefix);
}

void
agent_bw_record(struct agent_bw *ab, const struct vnm_flow *rec,
                const char *json, size_t len)
{
    if (!ab->cfg.recent_flows) {
        return;
    }
    push_recent(ab, &rec->src.in, json, len);
    if (strcmp(rec->src.in.vm, rec->dst.in.vm)
        || strcmp(rec->src.in.tenant, rec->dst.in.tenant)) {
        push_recent(ab, &rec->dst.in, json, len);
    }
}

void
agent_bw_status(const struct agent_bw *ab, json_t *status)
{
    json_t *bwj;

    bw_status(ab->bw, status);
    bwj = json_object_get(status, "bandwidth");
    if (bwj) {
        json_object_set_new(bwj, "recent_flows",
                            json_integer((json_int_t) ab->n_recent));
    }
}

const struct bw *
agent_bw_aggregator(const struct agent_bw *ab)
{
    return ab->bw;
}
