/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flow classes: see flow-class.h.  Networks are few (a handful per kind), so
 * a linear scan of prefixes is enough.
 */
#include <config.h>

#include "ovs-ext/flow-class.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct prefix {
    struct vnm_addr addr;
    uint8_t plen;
};

struct flow_classifier {
    struct prefix *nets[FLOW_NET_N];
    size_t n_nets[FLOW_NET_N];
};

struct flow_classifier *
flow_classifier_create(void)
{
    return xzalloc(sizeof(struct flow_classifier));
}

void
flow_classifier_destroy(struct flow_classifier *fc)
{
    if (!fc) {
        return;
    }
    for (int i = 0; i < FLOW_NET_N; i++) {
        free(fc->nets[i]);
    }
    free(fc);
}

/* Parses "ADDR[/PLEN]" into '*p'. */
static bool
parse_prefix(const char *s, struct prefix *p)
{
    char buf[64];
    char *slash;
    int max;

    if (vnm_strlcpy(buf, s, sizeof buf) >= sizeof buf) {
        return false;
    }
    slash = strchr(buf, '/');
    if (slash) {
        *slash = '\0';
    }
    memset(p, 0, sizeof *p);
    if (inet_pton(AF_INET, buf, p->addr.a) == 1) {
        p->addr.family = 4;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, p->addr.a) == 1) {
        p->addr.family = 6;
        max = 128;
    } else {
        return false;
    }
    if (slash) {
        char *end;
        long plen = strtol(slash + 1, &end, 10);

        if (end == slash + 1 || *end || plen < 0 || plen > max) {
            return false;
        }
        p->plen = (uint8_t) plen;
    } else {
        p->plen = (uint8_t) max;
    }
    return true;
}

char *
flow_classifier_add(struct flow_classifier *fc, enum flow_net net,
                    const char *list)
{
    const char *p = list;

    while (*p) {
        size_t len;
        char *item;
        struct prefix prefix;

        p += strspn(p, ", \t");
        len = strcspn(p, ", \t");
        if (!len) {
            break;
        }
        item = xstrndup(p, len);
        p += len;
        if (!parse_prefix(item, &prefix)) {
            char *error = xasprintf("\"%s\" is not an address or network "
                                    "(e.g. 10.0.0.0/24 or fd00::/64)", item);
            free(item);
            return error;
        }
        free(item);
        fc->nets[net] = xrealloc(fc->nets[net],
                                 (fc->n_nets[net] + 1) * sizeof *fc->nets[net]);
        fc->nets[net][fc->n_nets[net]++] = prefix;
    }
    return NULL;
}

static bool
prefix_match(const struct prefix *p, const struct vnm_addr *a)
{
    unsigned bytes = p->plen / 8, bits = p->plen % 8;

    if (p->addr.family != a->family) {
        return false;
    }
    if (memcmp(p->addr.a, a->a, bytes)) {
        return false;
    }
    if (bits) {
        uint8_t mask = (uint8_t) (0xff << (8 - bits));

        return (p->addr.a[bytes] & mask) == (a->a[bytes] & mask);
    }
    return true;
}

bool
flow_classifier_match(const struct flow_classifier *fc, enum flow_net net,
                      const struct vnm_addr *addr)
{
    if (!addr->family) {
        return false;
    }
    for (size_t i = 0; i < fc->n_nets[net]; i++) {
        if (prefix_match(&fc->nets[net][i], addr)) {
            return true;
        }
    }
    return false;
}

bool
flow_class_is_vm(const struct vnm_attribution *a)
{
    return a->vm[0] || a->iface_id[0] || a->tenant[0];
}

static bool
is_host(const struct flow_classifier *fc, const struct vnm_addr *addr)
{
    return (flow_classifier_match(fc, FLOW_NET_HOST, addr)
            || flow_classifier_match(fc, FLOW_NET_MGMT, addr));
}

enum vnm_flow_class
flow_class_of(const struct flow_classifier *fc, const struct vnm_flow *flow)
{
    bool src_vm = flow_class_is_vm(&flow->src.in);
    bool dst_vm = flow_class_is_vm(&flow->dst.in);

    if (flow->tunnel_type
        || flow_classifier_match(fc, FLOW_NET_UNDERLAY, &flow->src.ip)
        || flow_classifier_match(fc, FLOW_NET_UNDERLAY, &flow->dst.ip)) {
        return VNM_FLOW_UNDERLAY;
    }
    if (src_vm && dst_vm) {
        return (!strcmp(flow->src.in.tenant, flow->dst.in.tenant)
                ? VNM_FLOW_VM_VM_SAME_TENANT : VNM_FLOW_VM_VM_CROSS_TENANT);
    }
    if (src_vm) {
        return (is_host(fc, &flow->dst.ip) ? VNM_FLOW_VM_HOST
                : VNM_FLOW_VM_EXTERNAL);
    }
    if (dst_vm) {
        return (is_host(fc, &flow->src.ip) ? VNM_FLOW_HOST_VM
                : VNM_FLOW_EXTERNAL_VM);
    }
    return VNM_FLOW_UNKNOWN;
}
