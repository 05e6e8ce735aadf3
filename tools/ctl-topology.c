/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `vnmonctl topology [--dot] [--since D] [-H HOST] [--json]`: the virtual
 * network of each host (bridges, ports, VMs, tenants, tunnels) from the
 * agents' inventories, and the traffic edges between VMs (and addresses)
 * observed over the last D (default 1 h) from the agents' top pairs.  See
 * ctl-topology.h for how edges are read and merged; tools/ctl-report.c
 * shows the same edges as its "top pairs".
 *
 * Output: a text tree (host > bridge > port > VM) and a table of edges;
 * --json, the object that ctl_topology_read() builds; --dot, a Graphviz
 * digraph with a cluster per host and per bridge, VMs coloured by tenant,
 * and edges labelled and weighted with their bytes.
 */
#include <config.h>

#include "tools/ctl-topology.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bw-series.h"
#include "lib/redis.h"
#include "lib/util.h"
#include "ovs-ext/inventory.h"
#include "tools/ctl-series.h"
#include "tools/svg.h"
#include "tools/vnmonctl.h"

/* Ranges up to this long are read from minute bins, longer ones from hour
 * bins. */
#define MINUTE_BINS_MAX 86400

/* Commands per pipelined batch: bounds the memory of one round trip. */

/* Fill colours of tenants in --dot output, in order of tenant name. */
static const char *const tenant_colors[] = {
    "#cfe2ff", "#d1e7dd", "#fff3cd", "#f8d7da", "#e2d9f3", "#d2f4ea",
    "#ffe5d0", "#e9ecef",
};

/* 'key' of 'obj' as a string, or NULL if absent, null or "". */
static const char *
str_or_null(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s && *s ? s : NULL;
}

static int
compare_json_strings(const void *a_, const void *b_)
{
    const json_t *const *a = a_;
    const json_t *const *b = b_;

    return strcmp(json_string_value(*a), json_string_value(*b));
}

/* Sorts the array of strings 'a' and removes duplicates. */
static void
sort_unique_strings(json_t *a)
{
    size_t n = json_array_size(a);
    json_t **items = xcalloc(n ? n : 1, sizeof *items);
    size_t i;

    for (i = 0; i < n; i++) {
        items[i] = json_incref(json_array_get(a, i));
    }
    qsort(items, n, sizeof *items, compare_json_strings);
    json_array_clear(a);
    for (i = 0; i < n; i++) {
        if (i && json_equal(items[i], items[i - 1])) {
            json_decref(items[i]);
        } else {
            json_array_append_new(a, items[i]);
        }
    }
    free(items);
}

/* Appends string 's' to array 'a' unless it is there already. */
static void
add_unique(json_t *a, const char *s)
{
    const json_t *v;
    size_t i;

    json_array_foreach (a, i, v) {
        if (!strcmp(json_string_value(v), s)) {
            return;
        }
    }
    json_array_append_new(a, json_string(s));
}

/* Writes the canonical text of address 'addr' (IPv4 or IPv6, as inet_ntop()
 * prints it) into 'buf', or copies 'addr' if it is not one. */
static void
canonical_addr(const char *addr, char *buf, size_t size)
{
    unsigned char bin[16];

    if (inet_pton(AF_INET, addr, bin) == 1) {
        inet_ntop(AF_INET, bin, buf, (socklen_t) size);
    } else if (inet_pton(AF_INET6, addr, bin) == 1) {
        inet_ntop(AF_INET6, bin, buf, (socklen_t) size);
    } else {
        vnm_strlcpy(buf, addr, size);
    }
}

/* Runs HGETALL (or GET, per 'cmd') on each key of 'keys' in pipelined
 * batches.  Returns 0 and '*repliesp' (one reply per key), or an errno
 * value after printing why. */
static int
query_keys(struct vnm_redis *r, const char *cmd, const json_t *keys,
           json_t **repliesp)
{
    size_t n = json_array_size(keys);
    const char **v = xcalloc(n ? n : 1, sizeof *v);
    int error;

    for (size_t i = 0; i < n; i++) {
        v[i] = json_string_value(json_array_get(keys, i));
    }
    error = ctl_query_keys(r, cmd, v, n, NULL, 0, repliesp);
    free(v);
    return error;
}

/* The hosts to show: 'host', or the union of the inventory and bandwidth
 * host sets, sorted. */
static int
read_hosts(struct vnm_redis *r, const char *host, json_t **hostsp)
{
    static const char *const sets[] = { INVENTORY_HOSTS_KEY, "vnm:bw:hosts" };
    json_t *hosts = json_array();

    if (host) {
        json_array_append_new(hosts, json_string(host));
        *hostsp = hosts;
        return 0;
    }
    for (size_t i = 0; i < VNM_ARRAY_SIZE(sets); i++) {
        json_t *members;
        const json_t *m;
        size_t j;
        int error = ctl_query(r, &members, "SMEMBERS %s", sets[i]);

        if (error) {
            json_decref(members);
            json_decref(hosts);
            return error;
        }
        json_array_foreach (members, j, m) {
            if (json_is_string(m)) {
                json_array_append(hosts, (json_t *) m);
            }
        }
        json_decref(members);
    }
    sort_unique_strings(hosts);
    *hostsp = hosts;
    return 0;
}

/* The kind of a port from its interfaces: "tunnel", "patch", "vm",
 * "internal" or "uplink" (a system netdev that is no VM's), as
 * collector/bw.h classifies ports. */
static const char *
port_kind(const json_t *ifaces)
{
    const char *kind = "uplink";
    const json_t *iface;
    size_t i;

    json_array_foreach (ifaces, i, iface) {
        const char *type = json_string_value(json_object_get(iface, "type"));

        type = type ? type : "";
        if (json_is_object(json_object_get(iface, "tunnel"))) {
            return "tunnel";
        } else if (!strcmp(type, "patch")) {
            return "patch";
        } else if (str_or_null(iface, "vm")) {
            kind = "vm";
        } else if (!strcmp(type, "internal") && strcmp(kind, "vm")) {
            kind = "internal";
        }
    }
    return kind;
}

/* Builds the host object of the topology from inventory 'inv' (NULL if the
 * host published none), and records each VM's addresses in 'ipmap' ("ADDR"
 * -> uuid, "" once two VMs share it) and each VM in 'vms' (uuid ->
 * {"tenant", "host"}). */
static json_t *
host_topology(const char *host, const json_t *inv, json_t *ipmap,
              json_t *vms)
{
    json_t *bridges = json_array(), *ports = json_array();
    json_t *vm_list = json_object(), *tenants = json_object();
    json_t *tunnels = json_array();
    json_t *out, *vm_array, *tenant_array;
    const json_t *ifaces = json_object_get(inv, "interfaces");
    const json_t *b, *p, *iface;
    const char *key;
    json_t *v;
    size_t i, j;

    json_array_foreach (json_object_get(inv, "bridges"), i, b) {
        const json_t *names = json_object_get(b, "ports");

        json_array_append_new(bridges, json_pack(
            "{s:s, s:s?, s:o}", "name", ctl_get_str(b, "name"),
            "datapath_type", str_or_null(b, "datapath_type"),
            "ports", (json_is_array(names) ? json_deep_copy(names)
                      : json_array())));
    }

    json_array_foreach (json_object_get(inv, "ports"), i, p) {
        const char *bridge = ctl_get_str(p, "bridge");
        const char *name = ctl_get_str(p, "name");
        json_t *mine = json_array(), *names = json_array();
        const char *vm = NULL, *tenant = NULL;
        const json_t *tunnel = NULL, *speed = NULL;
        json_t *port;

        json_array_foreach (ifaces, j, iface) {
            if (strcmp(ctl_get_str(iface, "bridge"), bridge)
                || strcmp(ctl_get_str(iface, "port"), name)) {
                continue;
            }
            json_array_append(mine, (json_t *) iface);
            json_array_append_new(names,
                                  json_string(ctl_get_str(iface, "name")));
            vm = vm ? vm : str_or_null(iface, "vm");
            tenant = tenant ? tenant : str_or_null(iface, "tenant");
            if (!tunnel && json_is_object(json_object_get(iface, "tunnel"))) {
                tunnel = json_object_get(iface, "tunnel");
            }
            if (!speed && json_integer_value(json_object_get(iface,
                                                             "link_speed"))) {
                speed = json_object_get(iface, "link_speed");
            }
        }
        port = json_pack("{s:s, s:s, s:s, s:s?, s:O?, s:O?, s:O, s:s?, s:s?,"
                         " s:O?, s:O?}",
                         "name", name, "bridge", bridge,
                         "kind", port_kind(mine),
                         "vlan_mode", str_or_null(p, "vlan_mode"),
                         "tag", json_object_get(p, "tag"),
                         "trunks", json_object_get(p, "trunks"),
                         "interfaces", names, "vm", vm, "tenant", tenant,
                         "link_speed", speed, "tunnel", tunnel);
        json_array_append_new(ports, port);
        json_decref(names);
        json_decref(mine);
    }

    json_array_foreach (ifaces, i, iface) {
        const char *vm = str_or_null(iface, "vm");
        const char *tenant = str_or_null(iface, "tenant");
        const json_t *tunnel = json_object_get(iface, "tunnel");
        const json_t *ip;

        if (json_is_object(tunnel)) {
            json_array_append_new(tunnels, json_pack(
                "{s:s, s:s, s:s, s:s?, s:O?, s:O?, s:s?, s:s?}",
                "port", ctl_get_str(iface, "port"),
                "interface", ctl_get_str(iface, "name"),
                "bridge", ctl_get_str(iface, "bridge"),
                "type", str_or_null(tunnel, "type"),
                "key", json_object_get(tunnel, "key"),
                "vni", json_object_get(tunnel, "vni"),
                "remote_ip", str_or_null(tunnel, "remote_ip"),
                "local_ip", str_or_null(tunnel, "local_ip")));
        }
        if (!vm) {
            continue;
        }
        v = json_object_get(vm_list, vm);
        if (!v) {
            v = json_pack("{s:s, s:s?, s:[], s:[], s:[], s:[]}", "uuid", vm,
                          "tenant", tenant, "ports", "bridges", "ips",
                          "macs");
            json_object_set_new(vm_list, vm, v);
        }
        add_unique(json_object_get(v, "ports"), ctl_get_str(iface, "port"));
        add_unique(json_object_get(v, "bridges"),
                   ctl_get_str(iface, "bridge"));
        if (str_or_null(iface, "attached_mac") || str_or_null(iface, "mac")) {
            add_unique(json_object_get(v, "macs"),
                       str_or_null(iface, "attached_mac")
                       ? str_or_null(iface, "attached_mac")
                       : str_or_null(iface, "mac"));
        }
        json_array_foreach (json_object_get(iface, "ips"), j, ip) {
            char addr[64];
            const char *known;

            if (!json_is_string(ip)) {
                continue;
            }
            canonical_addr(json_string_value(ip), addr, sizeof addr);
            add_unique(json_object_get(v, "ips"), addr);
            known = json_string_value(json_object_get(ipmap, addr));
            json_object_set_new(ipmap, addr,
                                json_string(known && strcmp(known, vm)
                                            ? "" : vm));
        }
        if (!json_object_get(vms, vm)) {
            json_object_set_new(vms, vm, json_pack("{s:s?, s:s}", "tenant",
                                                   tenant, "host", host));
        }
        if (tenant) {
            json_t *t = json_object_get(tenants, tenant);

            if (!t) {
                t = json_array();
                json_object_set_new(tenants, tenant, t);
            }
            add_unique(t, vm);
        }
    }

    /* Objects keyed by uuid and tenant become arrays sorted by key (jansson
     * iterates objects in insertion order). */
    vm_array = json_array();
    tenant_array = json_array();
    {
        json_t *keys = json_array();

        json_object_foreach (vm_list, key, v) {
            json_array_append_new(keys, json_string(key));
        }
        sort_unique_strings(keys);
        json_array_foreach (keys, i, v) {
            json_array_append(vm_array,
                              json_object_get(vm_list, json_string_value(v)));
        }
        json_array_clear(keys);
        json_object_foreach (tenants, key, v) {
            json_array_append_new(keys, json_string(key));
        }
        sort_unique_strings(keys);
        json_array_foreach (keys, i, v) {
            json_t *members = json_object_get(tenants, json_string_value(v));

            sort_unique_strings(members);
            json_array_append_new(tenant_array,
                                  json_pack("{s:O, s:O}", "name", v, "vms",
                                            members));
        }
        json_decref(keys);
    }

    out = json_pack("{s:s, s:b, s:b, s:b, s:O?, s:o, s:o, s:o, s:o, s:o}",
                    "host", host, "inventory", inv != NULL,
                    "connected", json_is_true(json_object_get(inv,
                                                              "connected")),
                    "synced", json_is_true(json_object_get(inv, "synced")),
                    "published_ms", json_object_get(inv, "published_ms"),
                    "bridges", bridges, "ports", ports, "vms", vm_array,
                    "tenants", tenant_array, "tunnels", tunnels);
    json_decref(vm_list);
    json_decref(tenants);
    return out;
}

/* Appends to 'keys' the key of pairs bin 'res' ("m" or "h") of 'host'
 * starting at 'start'. */
static void
add_pairs_key(json_t *keys, const char *host, const char *res,
              uint64_t start)
{
    char *prefix = bw_prefix(host, NULL);

    json_array_append_new(keys, json_sprintf("%s:bw:pairs:%s:%" PRIu64,
                                             prefix, res, start));
    free(prefix);
}

/* Adds the pairs of HGETALL reply 'reply' to 'acc' ("SRC>DST" -> [bytes,
 * packets]). */
static void
add_pairs(json_t *acc, const json_t *reply)
{
    for (size_t i = 0; i + 1 < json_array_size(reply); i += 2) {
        const char *field = json_string_value(json_array_get(reply, i));
        const char *value = json_string_value(json_array_get(reply, i + 1));
        unsigned long long bytes, packets;
        char *end;
        json_t *a;

        if (!field || !value || !strchr(field, '>')) {
            continue;
        }
        bytes = strtoull(value, &end, 10);
        packets = strtoull(end, &end, 10);
        a = json_object_get(acc, field);
        if (!a) {
            json_object_set_new(acc, field, json_pack("[I, I]",
                                                      (json_int_t) bytes,
                                                      (json_int_t) packets));
        } else {
            json_integer_set(json_array_get(a, 0),
                             json_integer_value(json_array_get(a, 0))
                             + (json_int_t) bytes);
            json_integer_set(json_array_get(a, 1),
                             json_integer_value(json_array_get(a, 1))
                             + (json_int_t) packets);
        }
    }
}

/* True if HGETALL reply 'reply' holds no field. */
static bool
reply_empty(const json_t *reply)
{
    return !json_array_size(reply);
}

/* Reads the pairs of 'host' over [from, to) into '*accp' ("SRC>DST" ->
 * [bytes, packets]).  Returns 0 or an errno value. */
static int
read_pairs(struct vnm_redis *r, const char *host, uint64_t from,
           uint64_t to, json_t **accp)
{
    json_t *acc = json_object();
    json_t *keys = json_array();
    json_t *replies = NULL;
    const json_t *reply;
    size_t i;
    int error;

    *accp = NULL;
    if (to - from <= MINUTE_BINS_MAX) {
        for (uint64_t t = from - from % 60; t < to; t += 60) {
            add_pairs_key(keys, host, "m", t);
        }
        error = query_keys(r, "HGETALL", keys, &replies);
        if (error) {
            goto out;
        }
        json_array_foreach (replies, i, reply) {
            add_pairs(acc, reply);
        }
    } else {
        /* Hour bins; an hour without one (the current hour, not written
         * yet) is read from its minute bins. */
        json_t *minute_keys = json_array();
        uint64_t first = from - from % 3600;

        for (uint64_t t = first; t < to; t += 3600) {
            add_pairs_key(keys, host, "h", t);
        }
        error = query_keys(r, "HGETALL", keys, &replies);
        if (error) {
            json_decref(minute_keys);
            goto out;
        }
        json_array_foreach (replies, i, reply) {
            if (!reply_empty(reply)) {
                add_pairs(acc, reply);
                continue;
            }
            for (uint64_t t = first + i * 3600;
                 t < first + (i + 1) * 3600 && t < to; t += 60) {
                add_pairs_key(minute_keys, host, "m", t);
            }
        }
        json_decref(replies);
        replies = NULL;
        error = query_keys(r, "HGETALL", minute_keys, &replies);
        json_decref(minute_keys);
        if (error) {
            goto out;
        }
        json_array_foreach (replies, i, reply) {
            add_pairs(acc, reply);
        }
    }
    *accp = acc;
    acc = NULL;

out:
    json_decref(replies);
    json_decref(keys);
    json_decref(acc);
    return error;
}

/* Resolves pair endpoint 'ep' ("vm:UUID" or "ip:ADDR") seen by 'observer'
 * into {"id", "vm", "tenant", "host"} ("id" "vm:UUID" when the VM is known,
 * else the endpoint; the others null when unknown). */
static json_t *
resolve_endpoint(const char *ep, const char *observer, const json_t *ipmaps,
                 const json_t *vms)
{
    const char *vm = NULL;
    const json_t *info;
    json_t *out;

    if (!strncmp(ep, "vm:", 3)) {
        vm = ep + 3;
    } else if (!strncmp(ep, "ip:", 3)) {
        const json_t *map;
        const char *host, *found;
        char addr[64];

        canonical_addr(ep + 3, addr, sizeof addr);
        found = json_string_value(json_object_get(
                                      json_object_get(ipmaps, observer),
                                      addr));
        if (!found) {
            /* Another host's VM, if exactly one has the address. */
            json_object_foreach ((json_t *) ipmaps, host, map) {
                const char *s = json_string_value(json_object_get(map, addr));

                if (!s || !strcmp(host, observer)) {
                    continue;
                }
                if (found && strcmp(found, s)) {
                    found = "";
                    break;
                }
                found = s;
            }
        }
        vm = found && *found ? found : NULL;
    }
    info = vm ? json_object_get(vms, vm) : NULL;
    out = json_pack("{s:o, s:s?, s:O?, s:O?}",
                    "id", vm ? json_sprintf("vm:%s", vm) : json_string(ep),
                    "vm", vm,
                    "tenant", json_object_get(info, "tenant"),
                    "host", json_object_get(info, "host"));
    return out;
}

static int
compare_edges(const void *a_, const void *b_)
{
    const json_t *const *a = a_;
    const json_t *const *b = b_;
    json_int_t x = ctl_get_int(*a, "bytes"), y = ctl_get_int(*b, "bytes");
    int c;

    if (x != y) {
        return x > y ? -1 : 1;
    }
    c = strcmp(ctl_get_str(*a, "src"), ctl_get_str(*b, "src"));
    return c ? c : strcmp(ctl_get_str(*a, "dst"), ctl_get_str(*b, "dst"));
}

/* Merges the pairs 'acc' observed by 'observer' into 'edges' (keyed by
 * "SRC>DST" of resolved endpoints): summed within the host, the largest
 * host's sum across hosts. */
static void
merge_edges(json_t *edges, const json_t *acc, const char *observer,
            const json_t *ipmaps, const json_t *vms)
{
    json_t *mine = json_object();
    const char *field;
    json_t *v, *e;

    json_object_foreach ((json_t *) acc, field, v) {
        const char *gt = strchr(field, '>');
        char *src_ep = xstrndup(field, (size_t) (gt - field));
        json_t *src = resolve_endpoint(src_ep, observer, ipmaps, vms);
        json_t *dst = resolve_endpoint(gt + 1, observer, ipmaps, vms);
        json_t *key = json_sprintf("%s>%s", ctl_get_str(src, "id"),
                                   ctl_get_str(dst, "id"));
        json_int_t bytes = json_integer_value(json_array_get(v, 0));
        json_int_t packets = json_integer_value(json_array_get(v, 1));

        e = json_object_get(mine, json_string_value(key));
        if (!e) {
            e = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:I, "
                          "s:I, s:[s]}",
                          "src", json_object_get(src, "id"),
                          "dst", json_object_get(dst, "id"),
                          "src_vm", json_object_get(src, "vm"),
                          "dst_vm", json_object_get(dst, "vm"),
                          "src_tenant", json_object_get(src, "tenant"),
                          "dst_tenant", json_object_get(dst, "tenant"),
                          "src_host", json_object_get(src, "host"),
                          "dst_host", json_object_get(dst, "host"),
                          "bytes", (json_int_t) 0, "packets", (json_int_t) 0,
                          "observed_by", observer);
            json_object_set_new(mine, json_string_value(key), e);
        }
        json_object_set_new(e, "bytes", json_integer(
                                ctl_get_int(e, "bytes") + bytes));
        json_object_set_new(e, "packets", json_integer(
                                ctl_get_int(e, "packets") + packets));
        json_decref(key);
        json_decref(src);
        json_decref(dst);
        free(src_ep);
    }

    json_object_foreach (mine, field, v) {
        e = json_object_get(edges, field);
        if (!e) {
            json_object_set(edges, field, v);
            continue;
        }
        add_unique(json_object_get(e, "observed_by"), observer);
        if (ctl_get_int(v, "bytes") > ctl_get_int(e, "bytes")) {
            json_object_set(e, "bytes", json_object_get(v, "bytes"));
            json_object_set(e, "packets", json_object_get(v, "packets"));
        }
    }
    json_decref(mine);
}

int
ctl_topology_read(struct vnm_redis *r, const char *host, uint64_t from,
                  uint64_t to, json_t **topop)
{
    json_t *hosts = NULL, *inv_keys = json_array(), *invs = NULL;
    json_t *ipmaps = json_object(), *vms = json_object();
    json_t *edges = json_object(), *host_array = json_array();
    json_t *edge_array, *h, *e;
    json_t **sorted;
    const char *key;
    size_t i, n;
    int error;

    *topop = NULL;
    error = read_hosts(r, host, &hosts);
    if (error) {
        goto out;
    }
    json_array_foreach (hosts, i, h) {
        json_array_append_new(inv_keys, json_sprintf(INVENTORY_KEY,
                                                     json_string_value(h)));
    }
    error = query_keys(r, "GET", inv_keys, &invs);
    if (error) {
        goto out;
    }
    json_array_foreach (hosts, i, h) {
        const char *name = json_string_value(h);
        const char *text = json_string_value(json_array_get(invs, i));
        json_t *inv = text ? json_loads(text, 0, NULL) : NULL;
        json_t *ipmap = json_object();

        if (text && !json_is_object(inv)) {
            fprintf(stderr, "vnmonctl: %s: inventory is not a JSON object; "
                    "ignored\n", json_string_value(json_array_get(inv_keys,
                                                                  i)));
        }
        json_array_append_new(host_array,
                              host_topology(name,
                                            json_is_object(inv) ? inv : NULL,
                                            ipmap, vms));
        json_object_set_new(ipmaps, name, ipmap);
        json_decref(inv);
    }

    json_array_foreach (hosts, i, h) {
        json_t *acc;

        error = read_pairs(r, json_string_value(h), from, to, &acc);
        if (error) {
            goto out;
        }
        merge_edges(edges, acc, json_string_value(h), ipmaps, vms);
        json_decref(acc);
    }

    n = json_object_size(edges);
    sorted = xcalloc(n ? n : 1, sizeof *sorted);
    i = 0;
    json_object_foreach (edges, key, e) {
        sort_unique_strings(json_object_get(e, "observed_by"));
        sorted[i++] = e;
    }
    qsort(sorted, n, sizeof *sorted, compare_edges);
    edge_array = json_array();
    for (i = 0; i < n; i++) {
        json_array_append(edge_array, sorted[i]);
    }
    free(sorted);
    *topop = json_pack("{s:I, s:I, s:O, s:o}", "from", (json_int_t) from,
                       "to", (json_int_t) to, "hosts", host_array,
                       "edges", edge_array);

out:
    json_decref(hosts);
    json_decref(inv_keys);
    json_decref(invs);
    json_decref(ipmaps);
    json_decref(vms);
    json_decref(edges);
    json_decref(host_array);
    return error;
}

/* ---------------------------------------------------------------- text */

/* "access tag=101 trunks=10,20" of port 'p' into 'buf', or "". */
static void
format_port_vlan(const json_t *p, char *buf, size_t size)
{
    const char *mode = str_or_null(p, "vlan_mode");
    const json_t *tag = json_object_get(p, "tag");
    const json_t *t;
    size_t n = 0, i;

    buf[0] = '\0';
    if (mode) {
        n += (size_t) snprintf(buf, size, "%s", mode);
    }
    if (json_is_integer(tag) && n < size) {
        n += (size_t) snprintf(buf + n, size - n,
                               "%stag=%" JSON_INTEGER_FORMAT, n ? " " : "",
                               json_integer_value(tag));
    }
    json_array_foreach (json_object_get(p, "trunks"), i, t) {
        if (n < size) {
            n += (size_t) snprintf(buf + n, size - n,
                                   "%s%" JSON_INTEGER_FORMAT,
                                   i ? "," : n ? " trunks=" : "trunks=",
                                   json_integer_value(t));
        }
    }
}

/* "vxlan key=5000 remote=192.0.2.2 local=192.0.2.1" of tunnel 't'. */
static void
format_tunnel(const json_t *t, char *buf, size_t size)
{
    const json_t *key = json_object_get(t, "key");
    const json_t *vni = json_object_get(t, "vni");
    size_t n;

    n = (size_t) snprintf(buf, size, "%s", str_or_null(t, "type")
                          ? str_or_null(t, "type") : "tunnel");
    if (json_is_integer(vni) && n < size) {
        n += (size_t) snprintf(buf + n, size - n, " vni=%" JSON_INTEGER_FORMAT,
                               json_integer_value(vni));
    } else if (json_is_string(key) && n < size) {
        n += (size_t) snprintf(buf + n, size - n, " key=%s",
                               json_string_value(key));
    }
    if (str_or_null(t, "remote_ip") && n < size) {
        n += (size_t) snprintf(buf + n, size - n, " remote=%s",
                               str_or_null(t, "remote_ip"));
    }
    if (str_or_null(t, "local_ip") && n < size) {
        snprintf(buf + n, size - n, " local=%s", str_or_null(t, "local_ip"));
    }
}

/* The VM object of 'host' whose uuid is 'uuid', or NULL. */
static const json_t *
find_vm(const json_t *host, const char *uuid)
{
    const json_t *vm;
    size_t i;

    json_array_foreach (json_object_get(host, "vms"), i, vm) {
        if (!strcmp(ctl_get_str(vm, "uuid"), uuid)) {
            return vm;
        }
    }
    return NULL;
}

static void
print_text(const json_t *topo, const char *range)
{
    const json_t *h, *e;
    size_t i, j, k;

    json_array_foreach (json_object_get(topo, "hosts"), i, h) {
        const json_t *b, *p, *t;

        if (!json_is_true(json_object_get(h, "inventory"))) {
            printf("host %s: no inventory published\n",
                   ctl_get_str(h, "host"));
            continue;
        }
        printf("host %s (ovsdb %s, %s)\n", ctl_get_str(h, "host"),
               json_is_true(json_object_get(h, "connected"))
               ? "connected" : "DISCONNECTED",
               json_is_true(json_object_get(h, "synced"))
               ? "synced" : "NOT SYNCED");
        json_array_foreach (json_object_get(h, "bridges"), j, b) {
            printf("  bridge %s", ctl_get_str(b, "name"));
            if (str_or_null(b, "datapath_type")) {
                printf(" (%s)", str_or_null(b, "datapath_type"));
            }
            putchar('\n');
            json_array_foreach (json_object_get(h, "ports"), k, p) {
                const json_t *speed = json_object_get(p, "link_speed");
                char vlan[256], buf[256];

                if (strcmp(ctl_get_str(p, "bridge"), ctl_get_str(b, "name"))) {
                    continue;
                }
                format_port_vlan(p, vlan, sizeof vlan);
                printf("    port %s: %s", ctl_get_str(p, "name"),
                       ctl_get_str(p, "kind"));
                if (vlan[0]) {
                    printf(", %s", vlan);
                }
                if (json_is_object(json_object_get(p, "tunnel"))) {
                    format_tunnel(json_object_get(p, "tunnel"), buf,
                                  sizeof buf);
                    printf(", %s", buf);
                }
                if (json_integer_value(speed)) {
                    printf(", %s", svg_format_si(
                               (double) json_integer_value(speed), "bit/s",
                               buf, sizeof buf));
                }
                putchar('\n');
                if (str_or_null(p, "vm")) {
                    const json_t *vm = find_vm(h, str_or_null(p, "vm"));
                    const json_t *ip;
                    size_t m;

                    printf("      vm %s (tenant %s)", str_or_null(p, "vm"),
                           str_or_null(p, "tenant")
                           ? str_or_null(p, "tenant") : "none");
                    json_array_foreach (json_object_get(vm, "ips"), m, ip) {
                        printf("%s%s", m ? "," : " ", json_string_value(ip));
                    }
                    putchar('\n');
                }
            }
        }
        printf("  tenants:");
        json_array_foreach (json_object_get(h, "tenants"), j, t) {
            printf("%s %s (%zu VM%s)", j ? "," : "", ctl_get_str(t, "name"),
                   json_array_size(json_object_get(t, "vms")),
                   json_array_size(json_object_get(t, "vms")) == 1 ? "" : "s");
        }
        printf("%s\n", json_array_size(json_object_get(h, "tenants"))
               ? "" : " none");
    }

    printf("\nedges, %s:\n", range);
    if (!json_array_size(json_object_get(topo, "edges"))) {
        printf("  none observed\n");
        return;
    }
    printf("  %10s %10s  %s\n", "BYTES", "PACKETS",
           "SOURCE [TENANT] -> DESTINATION [TENANT]");
    json_array_foreach (json_object_get(topo, "edges"), i, e) {
        const char *st = str_or_null(e, "src_tenant");
        const char *dt = str_or_null(e, "dst_tenant");
        char bytes[32];

        printf("  %10s %10" JSON_INTEGER_FORMAT "  %s%s%s%s -> %s%s%s%s\n",
               svg_format_si((double) ctl_get_int(e, "bytes"), "B", bytes,
                             sizeof bytes),
               ctl_get_int(e, "packets"), ctl_get_str(e, "src"),
               st ? " [" : "", st ? st : "", st ? "]" : "",
               ctl_get_str(e, "dst"), dt ? " [" : "", dt ? dt : "",
               dt ? "]" : "");
    }
}

/* ----------------------------------------------------------------- dot */

/* Writes 's' as the inside of a DOT double-quoted string: '"' and '\\'
 * escaped, control characters and bytes of malformed UTF-8 as '?'. */
static void
dot_escape(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            fputc('\\', f);
            fputc(*p, f);
        } else if (*p < 0x20 || *p == 0x7f || *p >= 0x80) {
            /* Graphviz reads UTF-8: pass well-formed sequences. */
            size_t n = 0;

            if (*p >= 0xc2 && *p <= 0xf4) {
                n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
                for (size_t i = 1; i < n; i++) {
                    if ((p[i] & 0xc0) != 0x80) {
                        n = 0;
                        break;
                    }
                }
            }
            if (n) {
                fwrite(p, 1, n, f);
                p += n - 1;
            } else {
                fputc('?', f);
            }
        } else {
            fputc(*p, f);
        }
    }
}

/* Writes a quoted DOT id made of the parts, separated by '|'. */
static void
dot_id(FILE *f, const char *a, const char *b, const char *c)
{
    fputc('"', f);
    dot_escape(f, a);
    if (b) {
        fputc('|', f);
        dot_escape(f, b);
    }
    if (c) {
        fputc('|', f);
        dot_escape(f, c);
    }
    fputc('"', f);
}

/* The fill colour of 'tenant' (NULL: none), from its rank in 'tenants'. */
static const char *
tenant_color(const json_t *tenants, const char *tenant)
{
    const json_t *t;
    size_t i;

    if (!tenant) {
        return "#ffffff";
    }
    json_array_foreach (tenants, i, t) {
        if (!strcmp(json_string_value(t), tenant)) {
            return tenant_colors[i % VNM_ARRAY_SIZE(tenant_colors)];
        }
    }
    return "#ffffff";
}

static void
print_dot(const json_t *topo, const char *range)
{
    json_t *tenants = json_array(), *nodes = json_object();
    json_int_t max_bytes = 1;
    const json_t *h, *e, *t;
    char buf[64];
    size_t i, j, k;

    /* Tenants over every host, for stable colours. */
    json_array_foreach (json_object_get(topo, "hosts"), i, h) {
        json_array_foreach (json_object_get(h, "tenants"), j, t) {
            json_array_append(tenants, json_object_get(t, "name"));
        }
    }
    sort_unique_strings(tenants);

    printf("digraph vnmon {\n"
           "    graph [rankdir=LR, fontname=\"sans-serif\", fontsize=11, "
           "label=\"vnmon topology, edges: ");
    dot_escape(stdout, range);
    printf("\", labelloc=t];\n"
           "    node [fontname=\"sans-serif\", fontsize=10, shape=box];\n"
           "    edge [fontname=\"sans-serif\", fontsize=9];\n");

    json_array_foreach (json_object_get(topo, "hosts"), i, h) {
        const char *host = ctl_get_str(h, "host");
        const json_t *b, *p, *vm, *tun;

        printf("    subgraph ");
        dot_id(stdout, "cluster_host", host, NULL);
        printf(" {\n        label=\"host ");
        dot_escape(stdout, host);
        printf("%s\";\n        style=rounded; color=\"#555555\";\n",
               json_is_true(json_object_get(h, "inventory"))
               ? "" : " (no inventory)");
        json_array_foreach (json_object_get(h, "bridges"), j, b) {
            const char *bridge = ctl_get_str(b, "name");

            printf("        subgraph ");
            dot_id(stdout, "cluster_bridge", host, bridge);
            printf(" {\n            label=\"bridge ");
            dot_escape(stdout, bridge);
            printf("\"; style=filled; color=\"#f4f4f4\";\n");
            json_array_foreach (json_object_get(h, "ports"), k, p) {
                char vlan[256];

                if (strcmp(ctl_get_str(p, "bridge"), bridge)) {
                    continue;
                }
                format_port_vlan(p, vlan, sizeof vlan);
                printf("            ");
                dot_id(stdout, "port", host, ctl_get_str(p, "name"));
                printf(" [label=\"");
                dot_escape(stdout, ctl_get_str(p, "name"));
                printf("\\n%s", ctl_get_str(p, "kind"));
                if (vlan[0]) {
                    printf(", ");
                    dot_escape(stdout, vlan);
                }
                printf("\", style=filled, fillcolor=\"#ffffff\"];\n");
            }
            printf("        }\n");
        }
        json_array_foreach (json_object_get(h, "vms"), j, vm) {
            const char *uuid = ctl_get_str(vm, "uuid");
            const char *tenant = str_or_null(vm, "tenant");
            json_t *id = json_sprintf("vm:%s", uuid);

            json_object_set_new(nodes, json_string_value(id), json_true());
            printf("        ");
            dot_id(stdout, json_string_value(id), NULL, NULL);
            printf(" [shape=ellipse, style=filled, fillcolor=\"%s\", "
                   "label=\"VM ", tenant_color(tenants, tenant));
            dot_escape(stdout, uuid);
            printf("\\ntenant ");
            dot_escape(stdout, tenant ? tenant : "none");
            printf("\"];\n");
            json_decref(id);
        }
        printf("    }\n");

        /* Port to VM attachments, and tunnels to their remote end. */
        json_array_foreach (json_object_get(h, "ports"), j, p) {
            if (str_or_null(p, "vm")) {
                json_t *id = json_sprintf("vm:%s", str_or_null(p, "vm"));

                printf("    ");
                dot_id(stdout, "port", host, ctl_get_str(p, "name"));
                printf(" -> ");
                dot_id(stdout, json_string_value(id), NULL, NULL);
                printf(" [dir=none, style=dashed, color=\"#888888\"];\n");
                json_decref(id);
            }
        }
        json_array_foreach (json_object_get(h, "tunnels"), j, tun) {
            const char *remote = str_or_null(tun, "remote_ip");
            char desc[256];

            if (!remote) {
                continue;
            }
            format_tunnel(tun, desc, sizeof desc);
            printf("    ");
            dot_id(stdout, "remote", remote, NULL);
            printf(" [shape=cds, label=\"underlay ");
            dot_escape(stdout, remote);
            printf("\"];\n    ");
            dot_id(stdout, "port", host, ctl_get_str(tun, "port"));
            printf(" -> ");
            dot_id(stdout, "remote", remote, NULL);
            printf(" [style=bold, color=\"#6c757d\", label=\"");
            dot_escape(stdout, desc);
            printf("\"];\n");
        }
    }

    /* Traffic edges; endpoints not drawn above (addresses, VMs of hosts
     * without inventory) get a node of their own. */
    json_array_foreach (json_object_get(topo, "edges"), i, e) {
        if (ctl_get_int(e, "bytes") > max_bytes) {
            max_bytes = ctl_get_int(e, "bytes");
        }
    }
    json_array_foreach (json_object_get(topo, "edges"), i, e) {
        const char *ends[2] = { ctl_get_str(e, "src"), ctl_get_str(e, "dst") };
        json_int_t bytes = ctl_get_int(e, "bytes");
        double ratio = (log1p((double) bytes) / log1p((double) max_bytes));

        for (j = 0; j < 2; j++) {
            if (json_object_get(nodes, ends[j])) {
                continue;
            }
            json_object_set_new(nodes, ends[j], json_true());
            printf("    ");
            dot_id(stdout, ends[j], NULL, NULL);
            printf(" [shape=ellipse, style=\"filled,dashed\", "
                   "fillcolor=\"%s\", label=\"",
                   tenant_color(tenants, str_or_null(e, j ? "dst_tenant"
                                                     : "src_tenant")));
            dot_escape(stdout, ends[j]);
            printf("\"];\n");
        }
        printf("    ");
        dot_id(stdout, ends[0], NULL, NULL);
        printf(" -> ");
        dot_id(stdout, ends[1], NULL, NULL);
        printf(" [label=\"%s\", penwidth=%.2f, weight=%d, color=\"%s\"];\n",
               svg_format_si((double) bytes, "B", buf, sizeof buf),
               1 + 5 * ratio, 1 + (int) (9 * ratio), SVG_TX_COLOR);
    }
    printf("}\n");
    json_decref(nodes);
    json_decref(tenants);
}

/* ------------------------------------------------------------- command */

static int
run_topology(struct ctl_options *opts, int argc, char *argv[])
{
    static const struct option longopts[] = {
        { "dot", no_argument, NULL, 'd' },
        { "since", required_argument, NULL, 's' },
        { NULL, 0, NULL, 0 },
    };
    uint64_t since = 3600, now;
    bool dot = false;
    struct vnm_redis *r;
    json_t *topo;
    char range[128], t0[32], t1[32];
    int c, error, status;

    while ((c = ctl_getopt(opts, argc, argv, "", longopts)) != -1) {
        switch (c) {
        case 'd':
            dot = true;
            break;
        case 's':
            if (!ctl_parse_duration(optarg, &since) || !since) {
                fprintf(stderr, "vnmonctl: topology: --since %s: not a "
                        "duration (90s, 15m, 1h, 7d)\n", optarg);
                return 2;
            }
            break;
        default:
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vnmonctl: topology: unexpected argument \"%s\"\n",
                argv[optind]);
        return 2;
    }
    if (dot && opts->json) {
        fprintf(stderr, "vnmonctl: topology: --dot and --json exclude each "
                "other\n");
        return 2;
    }
    r = ctl_connect(opts);
    if (!r) {
        return 2;
    }
    now = vnm_time_wall_ms() / 1000;
    error = ctl_topology_read(r, opts->host, now > since ? now - since : 0,
                              now, &topo);
    ctl_disconnect(r);
    if (error) {
        return 2;
    }
    snprintf(range, sizeof range, "%s to %s UTC (--since %" PRIu64 "s)",
             svg_format_time(now - since, t0, sizeof t0),
             svg_format_time(now, t1, sizeof t1), since);

    /* "Not found": no host at all, or the one asked for unknown. */
    status = 0;
    if (!json_array_size(json_object_get(topo, "hosts"))
        || (opts->host
            && !json_is_true(json_object_get(
                                 json_array_get(json_object_get(topo, "hosts"),
                                                0), "inventory"))
            && !json_array_size(json_object_get(topo, "edges")))) {
        status = 1;
    }
    if (opts->json) {
        ctl_print_json(topo);
    } else if (dot) {
        print_dot(topo, range);
    } else if (!json_array_size(json_object_get(topo, "hosts"))) {
        printf("no inventory or bandwidth data has been published\n");
    } else {
        print_text(topo, range);
    }
    json_decref(topo);
    return status;
}

const struct ctl_command ctl_topology_command = {
    "topology", "topology [--dot] [--since D]",
    "bridges, ports, VMs, tenants, tunnels and VM-to-VM edges",
    run_topology,
};
