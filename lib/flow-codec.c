/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flow records as JSON: see flow-codec.h and doc/flow-record.md.
 */
#include <config.h>

#include "lib/flow-codec.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const event_names[] = {
    [VNM_FLOW_UPDATE] = "update",
    [VNM_FLOW_END_IDLE] = "end-idle",
    [VNM_FLOW_END_TCP] = "end-tcp",
    [VNM_FLOW_END_ACTIVE] = "end-active",
    [VNM_FLOW_END_EVICTED] = "end-evicted",
    [VNM_FLOW_END_SHUTDOWN] = "end-shutdown",
};

static const char *const class_names[] = {
    [VNM_FLOW_UNKNOWN] = "unknown",
    [VNM_FLOW_VM_VM_SAME_TENANT] = "vm-vm-same-tenant",
    [VNM_FLOW_VM_VM_CROSS_TENANT] = "vm-vm-cross-tenant",
    [VNM_FLOW_VM_HOST] = "vm-host",
    [VNM_FLOW_HOST_VM] = "host-vm",
    [VNM_FLOW_VM_EXTERNAL] = "vm-external",
    [VNM_FLOW_EXTERNAL_VM] = "external-vm",
    [VNM_FLOW_UNDERLAY] = "underlay",
};

static const char *const tunnel_names[] = {
    "", "vxlan", "geneve", "gre", "ipip",
};

/* The bits of struct vnm_flow_ctl's 'arp' and 'nd', by bit number. */
static const char *const arp_names[] = {
    "request", "reply", "gratuitous", "sha-mismatch",
};
static const char *const nd_names[] = {
    "rs", "ra", "ns", "na", "redirect",
};

const char *
flow_event_name(enum vnm_flow_event event)
{
    return ((unsigned) event < VNM_ARRAY_SIZE(event_names)
            ? event_names[event] : "update");
}

static int
name_index(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (names[i] && !strcmp(names[i], name)) {
            return (int) i;
        }
    }
    return -1;
}

int
flow_event_from_name(const char *name)
{
    return name_index(event_names, VNM_ARRAY_SIZE(event_names), name);
}

const char *
flow_class_name(enum vnm_flow_class class)
{
    return ((unsigned) class < VNM_ARRAY_SIZE(class_names)
            ? class_names[class] : "unknown");
}

int
flow_class_from_name(const char *name)
{
    return name_index(class_names, VNM_ARRAY_SIZE(class_names), name);
}

/* Writes 'v' (0..255) in decimal at 'p'; returns the end. */
static char *
put_u8(char *p, unsigned v)
{
    if (v >= 100) {
        *p++ = (char) ('0' + v / 100);
    }
    if (v >= 10) {
        *p++ = (char) ('0' + v / 10 % 10);
    }
    *p++ = (char) ('0' + v % 10);
    return p;
}

char *
vnm_addr_format(const struct vnm_addr *a, char *buf, size_t size)
{
    if (a->family == 4 && size >= 16) {
        /* By hand: glibc's inet_ntop() goes through sprintf(), and this
         * runs twice per flow record. */
        char *p = buf;

        for (int i = 0; i < 4; i++) {
            p = put_u8(p, a->a[i]);
            *p++ = i < 3 ? '.' : '\0';
        }
    } else if (a->family == 4) {
        inet_ntop(AF_INET, a->a, buf, (socklen_t) size);
    } else if (a->family == 6) {
        inet_ntop(AF_INET6, a->a, buf, (socklen_t) size);
    } else if (size) {
        buf[0] = '\0';
    }
    return buf;
}

bool
vnm_addr_parse(const char *s, struct vnm_addr *a)
{
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, s, a->a) == 1) {
        a->family = 4;
        return true;
    } else if (inet_pton(AF_INET6, s, a->a) == 1) {
        a->family = 6;
        return true;
    }
    return false;
}

void
vnm_mac_format(const uint8_t mac[6], char buf[18])
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 0; i < 6; i++) {
        buf[i * 3] = hex[mac[i] >> 4];
        buf[i * 3 + 1] = hex[mac[i] & 15];
        buf[i * 3 + 2] = i < 5 ? ':' : '\0';
    }
}

bool
vnm_mac_parse(const char *s, uint8_t mac[6])
{
    unsigned int b[6];
    char extra;

    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
               &b[5], &extra) != 6) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        if (b[i] > 0xff) {
            return false;
        }
        mac[i] = (uint8_t) b[i];
    }
    return true;
}

/* The length of the valid UTF-8 sequence of 2 to 4 bytes at 'p', or 0 if
 * there is none (overlong forms, surrogates, past U+10FFFF, cut short). */
static size_t
utf8_valid(const unsigned char *p)
{
    unsigned char c = p[0];
    size_t n = ((c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
                : (c & 0xf8) == 0xf0 ? 4 : 0);

    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
    }
    if ((n == 2 && c < 0xc2)
        || (n == 3 && c == 0xe0 && p[1] < 0xa0)
        || (n == 3 && c == 0xed && p[1] >= 0xa0)
        || (n == 4 && (c > 0xf4 || (c == 0xf0 && p[1] < 0x90)
                       || (c == 0xf4 && p[1] >= 0x90)))) {
        return 0;
    }
    return n;
}

/* Cuts 's' (valid UTF-8 before it was truncated) before a character that
 * truncation left incomplete at its end. */
static void
utf8_trim(char *s)
{
    size_t len = strlen(s);
    size_t i = len;
    unsigned char c;
    size_t need;

    while (i > 0 && len - i < 3 && ((unsigned char) s[i - 1] & 0xc0) == 0x80) {
        i--;
    }
    if (!i) {
        return;
    }
    c = (unsigned char) s[i - 1];
    need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    if (need > len - (i - 1)) {
        s[i - 1] = '\0';
    }
}

/* A JSON string for 's', with bytes that are not valid UTF-8 replaced by
 * U+FFFD (strings come from packets; jansson refuses invalid UTF-8). */
static json_t *
jstr(const char *s)
{
    const unsigned char *p = (const unsigned char *) s;
    json_t *j = json_string(s);
    char *fixed, *w;

    if (j) {
        return j;
    }
    w = fixed = xmalloc(strlen(s) * 3 + 1);
    while (*p) {
        size_t n = *p < 0x80 ? 1 : utf8_valid(p);

        if (n) {
            memcpy(w, p, n);
            w += n;
            p += n;
        } else {
            memcpy(w, "\xef\xbf\xbd", 3);
            w += 3;
            p++;
        }
    }
    *w = '\0';
    j = json_string(fixed);
    free(fixed);
    return j;
}

/* jansson integers are signed 64-bit: counters saturate at INT64_MAX. */
static json_int_t
u64(uint64_t v)
{
    return v > INT64_MAX ? INT64_MAX : (json_int_t) v;
}

static json_t *
end_to_json(const struct vnm_flow_end *e)
{
    char ip[64], mac[18];
    json_t *j;

    vnm_addr_format(&e->ip, ip, sizeof ip);
    vnm_mac_format(e->mac, mac);
    j = json_pack("{s:s, s:i, s:s, s:I, s:I, s:i}",
                  "ip", ip, "port", (int) e->port, "mac", mac,
                  "packets", u64(e->packets), "bytes", u64(e->bytes),
                  "tcp_flags", (int) e->tcp_flags);
    json_object_set_new(j, "in", json_pack(
        "{s:s, s:i, s:s, s:s, s:s}",
        "port", e->in.port, "ofport", (int) e->in.ofport,
        "iface_id", e->in.iface_id, "vm", e->in.vm, "tenant", e->in.tenant));
    return j;
}

static bool
bytes_are_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

/* True if 'c' says nothing (no "src_ctl"/"dst_ctl" member). */
static bool
ctl_is_zero(const struct vnm_flow_ctl *c)
{
    return (!c->arp && bytes_are_zero(c->arp_sha, sizeof c->arp_sha)
            && !c->nd && !c->nd_flags && !c->has_nd_lladdr
            && bytes_are_zero(c->nd_lladdr, sizeof c->nd_lladdr)
            && bytes_are_zero(c->nd_target, sizeof c->nd_target)
            && !c->has_icmp && !c->icmp_type && !c->icmp_code
            && !c->dhcpv6 && !c->dhcp_types);
}

/* Which members of a "src_ctl"/"dst_ctl" object 'c' has: flow_to_json()
 * and flow_to_jsonl() write the same ones. */
static bool
ctl_has_arp_sha(const struct vnm_flow_ctl *c)
{
    return c->arp || !bytes_are_zero(c->arp_sha, sizeof c->arp_sha);
}

static bool
ctl_has_nd_flags(const struct vnm_flow_ctl *c)
{
    return (c->nd & (VNM_ND_RA | VNM_ND_NA)) || c->nd_flags;
}

static bool
ctl_has_nd_target(const struct vnm_flow_ctl *c)
{
    return ((c->nd & (VNM_ND_NS | VNM_ND_NA | VNM_ND_REDIRECT))
            || !bytes_are_zero(c->nd_target, sizeof c->nd_target));
}

static bool
ctl_has_icmp(const struct vnm_flow_ctl *c)
{
    return c->has_icmp || c->icmp_type || c->icmp_code;
}

static void
format_nd_target(const struct vnm_flow_ctl *c, char buf[64])
{
    struct vnm_addr a = { .family = 6 };

    memcpy(a.a, c->nd_target, sizeof a.a);
    vnm_addr_format(&a, buf, 64);
}

/* The names of the bits of 'bits' set, from 'names' ('n' of them), as a
 * JSON array. */
static json_t *
bits_to_json(unsigned bits, const char *const *names, size_t n)
{
    json_t *j = json_array();

    for (size_t i = 0; i < n; i++) {
        if (bits & (1u << i)) {
            json_array_append_new(j, json_string(names[i]));
        }
    }
    return j;
}

/* 'c' as a JSON object, or NULL if it says nothing. */
static json_t *
ctl_to_json(const struct vnm_flow_ctl *c)
{
    char buf[64];
    json_t *j;

    if (ctl_is_zero(c)) {
        return NULL;
    }
    j = json_object();
    if (c->arp) {
        json_object_set_new(j, "arp", bits_to_json(
            c->arp, arp_names, VNM_ARRAY_SIZE(arp_names)));
    }
    if (ctl_has_arp_sha(c)) {
        vnm_mac_format(c->arp_sha, buf);
        json_object_set_new(j, "arp_sha", json_string(buf));
    }
    if (c->nd) {
        json_object_set_new(j, "nd", bits_to_json(
            c->nd, nd_names, VNM_ARRAY_SIZE(nd_names)));
    }
    if (ctl_has_nd_flags(c)) {
        json_object_set_new(j, "nd_flags", json_integer(c->nd_flags));
    }
    if (c->has_nd_lladdr) {
        vnm_mac_format(c->nd_lladdr, buf);
        json_object_set_new(j, "nd_lladdr", json_string(buf));
    }
    if (ctl_has_nd_target(c)) {
        format_nd_target(c, buf);
        json_object_set_new(j, "nd_target", json_string(buf));
    }
    if (ctl_has_icmp(c)) {
        json_object_set_new(j, "icmp_type", json_integer(c->icmp_type));
        json_object_set_new(j, "icmp_code", json_integer(c->icmp_code));
    }
    if (c->dhcpv6) {
        json_object_set_new(j, "dhcpv6", json_true());
    }
    if (c->dhcp_types) {
        json_t *types = json_array();

        for (unsigned i = 0; i < 32; i++) {
            if (c->dhcp_types & (UINT32_C(1) << i)) {
                json_array_append_new(types, json_integer(i));
            }
        }
        json_object_set_new(j, "dhcp_types", types);
    }
    return j;
}

/* The "outer" member of a tunnelled flow. */
static json_t *
outer_to_json(const struct vnm_flow_outer *o)
{
    char src[64], dst[64];

    vnm_addr_format(&o->src_ip, src, sizeof src);
    vnm_addr_format(&o->dst_ip, dst, sizeof dst);
    return json_pack("{s:s, s:s, s:i, s:i}", "src", src, "dst", dst,
                     "sport", (int) o->src_port, "dport", (int) o->dst_port);
}

/* The host id a record is written with: 'host_id' if given, else the
 * record's own 'host' if it has one, else NULL (no "host" member). */
static const char *
host_of(const struct vnm_flow *f, const char *host_id)
{
    return host_id ? host_id : f->host[0] ? f->host : NULL;
}

json_t *
flow_to_json(const struct vnm_flow *f, const char *host_id)
{
    json_t *j = json_object();
    json_t *vlan = json_array();
    json_t *labels = json_object();
    json_t *ctl;

    host_id = host_of(f, host_id);
    json_object_set_new(j, "id", json_integer(u64(f->id)));
    if (host_id) {
        json_object_set_new(j, "host", jstr(host_id));
    }
    json_object_set_new(j, "first_ms", json_integer(u64(f->first_ms)));
    json_object_set_new(j, "last_ms", json_integer(u64(f->last_ms)));
    json_object_set_new(j, "event", json_string(flow_event_name(f->event)));
    json_object_set_new(j, "class", json_string(flow_class_name(f->class)));
    json_object_set_new(j, "eth_type", json_integer(f->eth_type));
    json_object_set_new(j, "ip_proto", json_integer(f->ip_proto));
    for (unsigned i = 0; i < f->n_vlan_tags && i < VNM_MAX_VLAN_TAGS; i++) {
        json_array_append_new(vlan, json_pack(
            "{s:i, s:i, s:i, s:i}", "tpid", (int) f->vlan[i].tpid,
            "vid", (int) (f->vlan[i].tci & 0xfff),
            "pcp", (int) (f->vlan[i].tci >> 13),
            "dei", (int) ((f->vlan[i].tci >> 12) & 1)));
    }
    json_object_set_new(j, "vlan", vlan);
    if (f->tunnel_type && f->tunnel_type < VNM_ARRAY_SIZE(tunnel_names)) {
        json_object_set_new(j, "tunnel", json_pack(
            "{s:s, s:I}", "type", tunnel_names[f->tunnel_type],
            "vni", (json_int_t) f->vni));
    } else {
        json_object_set_new(j, "tunnel", json_null());
    }
    if (f->tunnel_type && f->tunnel_type < VNM_ARRAY_SIZE(tunnel_names)) {
        json_object_set_new(j, "outer", outer_to_json(&f->outer));
    }
    json_object_set_new(j, "src", end_to_json(&f->src));
    json_object_set_new(j, "dst", end_to_json(&f->dst));
    if ((ctl = ctl_to_json(&f->src_ctl))) {
        json_object_set_new(j, "src_ctl", ctl);
    }
    if ((ctl = ctl_to_json(&f->dst_ctl))) {
        json_object_set_new(j, "dst_ctl", ctl);
    }
    json_object_set_new(j, "app", json_string(f->app));
    json_object_set_new(j, "master", json_string(f->master));
    json_object_set_new(j, "category", json_string(f->category));
    json_object_set_new(j, "confidence", json_integer(f->confidence));
    json_object_set_new(j, "risk_score", json_integer(f->risk_score));
    json_object_set_new(j, "risks", json_integer(u64(f->risks)));
    json_object_set_new(j, "server_name", jstr(f->server_name));
    for (unsigned i = 0; i < f->labels.n && i < VNM_MAX_LABELS; i++) {
        json_object_set_new(labels, f->labels.label[i].key,
                            jstr(f->labels.label[i].value));
    }
    json_object_set_new(j, "labels", labels);
    return j;
}

/* A growable output buffer for the hand-written encoder below. */
struct out {
    char **buf;
    size_t *size;
    size_t *len;
};

static void
out_reserve(struct out *o, size_t n)
{
    if (*o->len + n + 1 > *o->size) {
        *o->size = (*o->len + n + 1) * 2;
        *o->buf = xrealloc(*o->buf, *o->size);
    }
}

static void
out_raw(struct out *o, const char *s, size_t n)
{
    out_reserve(o, n);
    memcpy(*o->buf + *o->len, s, n);
    *o->len += n;
}

#define OUT_LIT(O, S) out_raw(O, S, sizeof S - 1)

static void
out_u64(struct out *o, uint64_t v)
{
    char tmp[24];
    size_t n = 0;

    if (v > INT64_MAX) {
        v = INT64_MAX;          /* As flow_to_json(). */
    }
    do {
        tmp[sizeof tmp - 1 - n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v);
    out_raw(o, tmp + sizeof tmp - n, n);
}

static void
out_i64(struct out *o, int64_t v)
{
    if (v < 0) {
        OUT_LIT(o, "-");
        out_u64(o, v == INT64_MIN ? (uint64_t) INT64_MAX + 1
                : (uint64_t) -v);
    } else {
        out_u64(o, (uint64_t) v);
    }
}

/* Writes 's' as a JSON string: escapes as jansson would, and replaces
 * bytes that are not valid UTF-8 (strings come from packets) with U+FFFD,
 * so that every line parses. */
static void
out_str(struct out *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *) s;

    out_reserve(o, strlen(s) * 6 + 2);
    (*o->buf)[(*o->len)++] = '"';
    while (*p) {
        unsigned char c = *p;
        char *w = *o->buf + *o->len;

        if (c == '"' || c == '\\') {
            w[0] = '\\';
            w[1] = (char) c;
            *o->len += 2;
            p++;
        } else if (c < 0x20) {
            memcpy(w, "\\u00", 4);
            w[4] = hex[c >> 4];
            w[5] = hex[c & 15];
            *o->len += 6;
            p++;
        } else if (c < 0x80) {
            w[0] = (char) c;
            *o->len += 1;
            p++;
        } else {
            size_t valid = utf8_valid(p);

            if (valid) {
                memcpy(w, p, valid);
                *o->len += valid;
                p += valid;
            } else {
                memcpy(w, "\xef\xbf\xbd", 3);
                *o->len += 3;
                p++;
            }
        }
    }
    (*o->buf)[(*o->len)++] = '"';
}

static void
out_end(struct out *o, const struct vnm_flow_end *e)
{
    char ip[64], mac[18];

    vnm_addr_format(&e->ip, ip, sizeof ip);
    vnm_mac_format(e->mac, mac);
    OUT_LIT(o, "{\"ip\":");
    out_str(o, ip);
    OUT_LIT(o, ",\"port\":");
    out_u64(o, e->port);
    OUT_LIT(o, ",\"mac\":");
    out_str(o, mac);
    OUT_LIT(o, ",\"packets\":");
    out_u64(o, e->packets);
    OUT_LIT(o, ",\"bytes\":");
    out_u64(o, e->bytes);
    OUT_LIT(o, ",\"tcp_flags\":");
    out_u64(o, e->tcp_flags);
    OUT_LIT(o, ",\"in\":{\"port\":");
    out_str(o, e->in.port);
    OUT_LIT(o, ",\"ofport\":");
    out_i64(o, e->in.ofport);
    OUT_LIT(o, ",\"iface_id\":");
    out_str(o, e->in.iface_id);
    OUT_LIT(o, ",\"vm\":");
    out_str(o, e->in.vm);
    OUT_LIT(o, ",\"tenant\":");
    out_str(o, e->in.tenant);
    OUT_LIT(o, "}}");
}

/* Writes the names of the bits of 'bits' set, from 'names' ('n' of them),
 * as a JSON array. */
static void
out_bits(struct out *o, unsigned bits, const char *const *names, size_t n)
{
    bool first = true;

    OUT_LIT(o, "[");
    for (size_t i = 0; i < n; i++) {
        if (bits & (1u << i)) {
            if (!first) {
                OUT_LIT(o, ",");
            }
            out_str(o, names[i]);
            first = false;
        }
    }
    OUT_LIT(o, "]");
}

/* Writes the object key 'key' (after a comma unless '*first'). */
static void
out_key(struct out *o, bool *first, const char *key)
{
    if (!*first) {
        OUT_LIT(o, ",");
    }
    *first = false;
    out_str(o, key);
    OUT_LIT(o, ":");
}

/* Writes ',"NAME":' and 'c' as ctl_to_json() would, if it says
 * anything. */
static void
out_ctl(struct out *o, const char *name, const struct vnm_flow_ctl *c)
{
    char buf[64];
    bool first = true;

    if (ctl_is_zero(c)) {
        return;
    }
    OUT_LIT(o, ",");
    out_str(o, name);
    OUT_LIT(o, ":{");
    if (c->arp) {
        out_key(o, &first, "arp");
        out_bits(o, c->arp, arp_names, VNM_ARRAY_SIZE(arp_names));
    }
    if (ctl_has_arp_sha(c)) {
        out_key(o, &first, "arp_sha");
        vnm_mac_format(c->arp_sha, buf);
        out_str(o, buf);
    }
    if (c->nd) {
        out_key(o, &first, "nd");
        out_bits(o, c->nd, nd_names, VNM_ARRAY_SIZE(nd_names));
    }
    if (ctl_has_nd_flags(c)) {
        out_key(o, &first, "nd_flags");
        out_u64(o, c->nd_flags);
    }
    if (c->has_nd_lladdr) {
        out_key(o, &first, "nd_lladdr");
        vnm_mac_format(c->nd_lladdr, buf);
        out_str(o, buf);
    }
    if (ctl_has_nd_target(c)) {
        out_key(o, &first, "nd_target");
        format_nd_target(c, buf);
        out_str(o, buf);
    }
    if (ctl_has_icmp(c)) {
        out_key(o, &first, "icmp_type");
        out_u64(o, c->icmp_type);
        OUT_LIT(o, ",\"icmp_code\":");
        out_u64(o, c->icmp_code);
    }
    if (c->dhcpv6) {
        out_key(o, &first, "dhcpv6");
        OUT_LIT(o, "true");
    }
    if (c->dhcp_types) {
        bool first_type = true;

        out_key(o, &first, "dhcp_types");
        OUT_LIT(o, "[");
        for (unsigned i = 0; i < 32; i++) {
            if (c->dhcp_types & (UINT32_C(1) << i)) {
                if (!first_type) {
                    OUT_LIT(o, ",");
                }
                out_u64(o, i);
                first_type = false;
            }
        }
        OUT_LIT(o, "]");
    }
    OUT_LIT(o, "}");
}

/* The same members, in the same order, as flow_to_json(), written without
 * building a jansson tree: records are many, and this is their hot path. */
void
flow_to_jsonl(const struct vnm_flow *f, const char *host_id, char **buf,
              size_t *size, size_t *len)
{
    struct out o = { buf, size, len };

    host_id = host_of(f, host_id);
    OUT_LIT(&o, "{\"id\":");
    out_u64(&o, f->id);
    if (host_id) {
        OUT_LIT(&o, ",\"host\":");
        out_str(&o, host_id);
    }
    OUT_LIT(&o, ",\"first_ms\":");
    out_u64(&o, f->first_ms);
    OUT_LIT(&o, ",\"last_ms\":");
    out_u64(&o, f->last_ms);
    OUT_LIT(&o, ",\"event\":");
    out_str(&o, flow_event_name(f->event));
    OUT_LIT(&o, ",\"class\":");
    out_str(&o, flow_class_name(f->class));
    OUT_LIT(&o, ",\"eth_type\":");
    out_u64(&o, f->eth_type);
    OUT_LIT(&o, ",\"ip_proto\":");
    out_u64(&o, f->ip_proto);
    OUT_LIT(&o, ",\"vlan\":[");
    for (unsigned i = 0; i < f->n_vlan_tags && i < VNM_MAX_VLAN_TAGS; i++) {
        if (i) {
            OUT_LIT(&o, ",");
        }
        OUT_LIT(&o, "{\"tpid\":");
        out_u64(&o, f->vlan[i].tpid);
        OUT_LIT(&o, ",\"vid\":");
        out_u64(&o, f->vlan[i].tci & 0xfff);
        OUT_LIT(&o, ",\"pcp\":");
        out_u64(&o, f->vlan[i].tci >> 13);
        OUT_LIT(&o, ",\"dei\":");
        out_u64(&o, (f->vlan[i].tci >> 12) & 1);
        OUT_LIT(&o, "}");
    }
    OUT_LIT(&o, "],\"tunnel\":");
    if (f->tunnel_type && f->tunnel_type < VNM_ARRAY_SIZE(tunnel_names)) {
        OUT_LIT(&o, "{\"type\":");
        out_str(&o, tunnel_names[f->tunnel_type]);
        OUT_LIT(&o, ",\"vni\":");
        out_u64(&o, f->vni);
        OUT_LIT(&o, "}");
    } else {
        OUT_LIT(&o, "null");
    }
    if (f->tunnel_type && f->tunnel_type < VNM_ARRAY_SIZE(tunnel_names)) {
        char ip[64];

        OUT_LIT(&o, ",\"outer\":{\"src\":");
        out_str(&o, vnm_addr_format(&f->outer.src_ip, ip, sizeof ip));
        OUT_LIT(&o, ",\"dst\":");
        out_str(&o, vnm_addr_format(&f->outer.dst_ip, ip, sizeof ip));
        OUT_LIT(&o, ",\"sport\":");
        out_u64(&o, f->outer.src_port);
        OUT_LIT(&o, ",\"dport\":");
        out_u64(&o, f->outer.dst_port);
        OUT_LIT(&o, "}");
    }
    OUT_LIT(&o, ",\"src\":");
    out_end(&o, &f->src);
    OUT_LIT(&o, ",\"dst\":");
    out_end(&o, &f->dst);
    out_ctl(&o, "src_ctl", &f->src_ctl);
    out_ctl(&o, "dst_ctl", &f->dst_ctl);
    OUT_LIT(&o, ",\"app\":");
    out_str(&o, f->app);
    OUT_LIT(&o, ",\"master\":");
    out_str(&o, f->master);
    OUT_LIT(&o, ",\"category\":");
    out_str(&o, f->category);
    OUT_LIT(&o, ",\"confidence\":");
    out_u64(&o, f->confidence);
    OUT_LIT(&o, ",\"risk_score\":");
    out_u64(&o, f->risk_score);
    OUT_LIT(&o, ",\"risks\":");
    out_u64(&o, f->risks);
    OUT_LIT(&o, ",\"server_name\":");
    out_str(&o, f->server_name);
    OUT_LIT(&o, ",\"labels\":{");
    for (unsigned i = 0; i < f->labels.n && i < VNM_MAX_LABELS; i++) {
        if (i) {
            OUT_LIT(&o, ",");
        }
        out_str(&o, f->labels.label[i].key);
        OUT_LIT(&o, ":");
        out_str(&o, f->labels.label[i].value);
    }
    OUT_LIT(&o, "}}\n");
    (*buf)[*len] = '\0';
}

/* Decoding. */

static char *
get_string(const json_t *j, const char *key, char *dst, size_t size)
{
    const json_t *v = json_object_get(j, key);

    if (!json_is_string(v)) {
        return xasprintf("\"%s\": missing or not a string", key);
    }
    vnm_strlcpy(dst, json_string_value(v), size);
    return NULL;
}

static char *
get_uint(const json_t *j, const char *key, uint64_t max, uint64_t *valuep)
{
    const json_t *v = json_object_get(j, key);

    if (!json_is_integer(v) || json_integer_value(v) < 0
        || (uint64_t) json_integer_value(v) > max) {
        return xasprintf("\"%s\": missing, not an integer or out of range",
                         key);
    }
    *valuep = (uint64_t) json_integer_value(v);
    return NULL;
}

static char *
end_from_json(const json_t *j, struct vnm_flow_end *e)
{
    const json_t *in = json_object_get(j, "in");
    char ip[64], mac[18];
    uint64_t v;
    char *error;

    if (!json_is_object(j) || !json_is_object(in)) {
        return xstrdup("not an object");
    }
    if ((error = get_string(j, "ip", ip, sizeof ip))
        || (error = get_string(j, "mac", mac, sizeof mac))) {
        return error;
    }
    if (ip[0] && !vnm_addr_parse(ip, &e->ip)) {
        return xasprintf("\"ip\": bad address \"%s\"", ip);
    }
    if (!vnm_mac_parse(mac, e->mac)) {
        return xasprintf("\"mac\": bad MAC \"%s\"", mac);
    }
    if ((error = get_uint(j, "port", UINT16_MAX, &v))) {
        return error;
    }
    e->port = (uint16_t) v;
    if ((error = get_uint(j, "tcp_flags", UINT8_MAX, &v))) {
        return error;
    }
    e->tcp_flags = (uint8_t) v;
    if ((error = get_uint(j, "packets", UINT64_MAX, &e->packets))
        || (error = get_uint(j, "bytes", UINT64_MAX, &e->bytes))
        || (error = get_string(in, "port", e->in.port, sizeof e->in.port))
        || (error = get_string(in, "iface_id", e->in.iface_id,
                               sizeof e->in.iface_id))
        || (error = get_string(in, "vm", e->in.vm, sizeof e->in.vm))
        || (error = get_string(in, "tenant", e->in.tenant,
                               sizeof e->in.tenant))) {
        return error;
    }
    if (!json_is_integer(json_object_get(in, "ofport"))) {
        return xstrdup("\"in.ofport\": missing or not an integer");
    }
    e->in.ofport = (int32_t) json_integer_value(json_object_get(in, "ofport"));
    return NULL;
}

/* Parses the array of names 'j' (of bits, from 'names', 'n' of them) into
 * '*bits'. */
static char *
bits_from_json(const json_t *j, const char *key, const char *const *names,
               size_t n, uint8_t *bits)
{
    const json_t *v;
    size_t i;

    if (!json_is_array(j)) {
        return xasprintf("\"%s\": not an array", key);
    }
    *bits = 0;
    json_array_foreach (j, i, v) {
        int bit = (json_is_string(v)
                   ? name_index(names, n, json_string_value(v)) : -1);

        if (bit < 0) {
            return xasprintf("\"%s\": unknown name", key);
        }
        *bits |= (uint8_t) (1u << bit);
    }
    return NULL;
}

/* Parses the optional MAC member 'key' of 'j' into 'mac'.  Returns NULL or
 * an error; sets '*present'. */
static char *
get_opt_mac(const json_t *j, const char *key, uint8_t mac[6], bool *present)
{
    const json_t *v = json_object_get(j, key);

    *present = v != NULL;
    if (v && (!json_is_string(v)
              || !vnm_mac_parse(json_string_value(v), mac))) {
        return xasprintf("\"%s\": not a MAC", key);
    }
    return NULL;
}

/* Parses the optional integer member 'key' of 'j' (0 to 'max') into
 * '*valuep', which stays 0 if it is absent. */
static char *
get_opt_uint(const json_t *j, const char *key, uint64_t max,
             uint64_t *valuep)
{
    *valuep = 0;
    return json_object_get(j, key) ? get_uint(j, key, max, valuep) : NULL;
}

/* Parses a "src_ctl"/"dst_ctl" object into 'c'. */
static char *
ctl_from_json(const json_t *j, struct vnm_flow_ctl *c)
{
    const json_t *v;
    bool present;
    uint64_t u;
    size_t i;
    char *error;

    if (!json_is_object(j)) {
        return xstrdup("not an object");
    }
    if ((v = json_object_get(j, "arp"))
        && (error = bits_from_json(v, "arp", arp_names,
                                   VNM_ARRAY_SIZE(arp_names), &c->arp))) {
        return error;
    }
    if ((v = json_object_get(j, "nd"))
        && (error = bits_from_json(v, "nd", nd_names,
                                   VNM_ARRAY_SIZE(nd_names), &c->nd))) {
        return error;
    }
    if ((error = get_opt_mac(j, "arp_sha", c->arp_sha, &present))
        || (error = get_opt_mac(j, "nd_lladdr", c->nd_lladdr, &present))) {
        return error;
    }
    c->has_nd_lladdr = present;
    if ((error = get_opt_uint(j, "nd_flags", UINT8_MAX, &u))) {
        return error;
    }
    c->nd_flags = (uint8_t) u;
    if ((v = json_object_get(j, "nd_target"))) {
        struct vnm_addr a;

        if (!json_is_string(v) || !vnm_addr_parse(json_string_value(v), &a)
            || a.family != 6) {
            return xstrdup("\"nd_target\": not an IPv6 address");
        }
        memcpy(c->nd_target, a.a, sizeof c->nd_target);
    }
    if (json_object_get(j, "icmp_type")) {
        c->has_icmp = 1;
        if ((error = get_uint(j, "icmp_type", UINT8_MAX, &u))) {
            return error;
        }
        c->icmp_type = (uint8_t) u;
        if ((error = get_uint(j, "icmp_code", UINT8_MAX, &u))) {
            return error;
        }
        c->icmp_code = (uint8_t) u;
    }
    if ((v = json_object_get(j, "dhcpv6"))) {
        if (!json_is_boolean(v)) {
            return xstrdup("\"dhcpv6\": not a boolean");
        }
        c->dhcpv6 = json_is_true(v);
    }
    if ((v = json_object_get(j, "dhcp_types"))) {
        const json_t *t;

        if (!json_is_array(v)) {
            return xstrdup("\"dhcp_types\": not an array");
        }
        json_array_foreach (v, i, t) {
            if (!json_is_integer(t) || json_integer_value(t) < 0
                || json_integer_value(t) > 31) {
                return xstrdup("\"dhcp_types\": not an array of 0..31");
            }
            c->dhcp_types |= UINT32_C(1) << json_integer_value(t);
        }
    }
    return NULL;
}

/* Parses the "outer" object 'j' into 'o'. */
static char *
outer_from_json(const json_t *j, struct vnm_flow_outer *o)
{
    char ip[64];
    uint64_t u;
    char *error;

    if (!json_is_object(j)) {
        return xstrdup("\"outer\": not an object");
    }
    if ((error = get_string(j, "src", ip, sizeof ip))) {
        return error;
    }
    if (ip[0] && !vnm_addr_parse(ip, &o->src_ip)) {
        return xasprintf("\"outer\": bad address \"%s\"", ip);
    }
    if ((error = get_string(j, "dst", ip, sizeof ip))) {
        return error;
    }
    if (ip[0] && !vnm_addr_parse(ip, &o->dst_ip)) {
        return xasprintf("\"outer\": bad address \"%s\"", ip);
    }
    if ((error = get_uint(j, "sport", UINT16_MAX, &u))) {
        return error;
    }
    o->src_port = (uint16_t) u;
    if ((error = get_uint(j, "dport", UINT16_MAX, &u))) {
        return error;
    }
    o->dst_port = (uint16_t) u;
    return NULL;
}

/* Prefixes '*error', if any, with '"NAME": '.  Returns it. */
static char *
error_in(const char *name, char *error)
{
    char *full;

    if (!error) {
        return NULL;
    }
    full = xasprintf("\"%s\": %s", name, error);
    free(error);
    return full;
}

char *
flow_from_json(const json_t *j, struct vnm_flow *f)
{
    const json_t *vlan, *tunnel, *labels, *v;
    char name[32];
    const char *key;
    uint64_t u;
    size_t i;
    char *error;
    int n;

    memset(f, 0, sizeof *f);
    if (!json_is_object(j)) {
        return xstrdup("flow record is not a JSON object");
    }
    v = json_object_get(j, "host");
    if (v && !json_is_string(v)) {
        return xstrdup("\"host\": not a string");
    }
    if (v) {
        /* Truncated, on a UTF-8 character boundary. */
        vnm_strlcpy(f->host, json_string_value(v), sizeof f->host);
        utf8_trim(f->host);
    }
    if ((error = get_uint(j, "id", UINT64_MAX, &f->id))
        || (error = get_uint(j, "first_ms", UINT64_MAX, &f->first_ms))
        || (error = get_uint(j, "last_ms", UINT64_MAX, &f->last_ms))
        || (error = get_string(j, "event", name, sizeof name))) {
        return error;
    }
    n = flow_event_from_name(name);
    if (n < 0) {
        return xasprintf("\"event\": unknown event \"%s\"", name);
    }
    f->event = (enum vnm_flow_event) n;
    if ((error = get_string(j, "class", name, sizeof name))) {
        return error;
    }
    n = flow_class_from_name(name);
    if (n < 0) {
        return xasprintf("\"class\": unknown class \"%s\"", name);
    }
    f->class = (enum vnm_flow_class) n;
    if ((error = get_uint(j, "eth_type", UINT16_MAX, &u))) {
        return error;
    }
    f->eth_type = (uint16_t) u;
    if ((error = get_uint(j, "ip_proto", UINT8_MAX, &u))) {
        return error;
    }
    f->ip_proto = (uint8_t) u;

    vlan = json_object_get(j, "vlan");
    if (!json_is_array(vlan) || json_array_size(vlan) > VNM_MAX_VLAN_TAGS) {
        return xstrdup("\"vlan\": not an array of at most 4 tags");
    }
    json_array_foreach (vlan, i, v) {
        uint64_t tpid, vid, pcp, dei;

        if ((error = get_uint(v, "tpid", UINT16_MAX, &tpid))
            || (error = get_uint(v, "vid", 0xfff, &vid))
            || (error = get_uint(v, "pcp", 7, &pcp))
            || (error = get_uint(v, "dei", 1, &dei))) {
            return error;
        }
        f->vlan[i].tpid = (uint16_t) tpid;
        f->vlan[i].tci = (uint16_t) ((pcp << 13) | (dei << 12) | vid);
    }
    f->n_vlan_tags = (uint8_t) json_array_size(vlan);

    tunnel = json_object_get(j, "tunnel");
    if (json_is_object(tunnel)) {
        if ((error = get_string(tunnel, "type", name, sizeof name))
            || (error = get_uint(tunnel, "vni", UINT32_MAX, &u))) {
            return error;
        }
        n = name_index(tunnel_names, VNM_ARRAY_SIZE(tunnel_names), name);
        if (n <= 0) {
            return xasprintf("\"tunnel\": unknown type \"%s\"", name);
        }
        f->tunnel_type = (uint32_t) n;
        f->vni = (uint32_t) u;
    } else if (!json_is_null(tunnel)) {
        return xstrdup("\"tunnel\": neither an object nor null");
    }
    if ((v = json_object_get(j, "outer"))
        && (error = outer_from_json(v, &f->outer))) {
        return error;
    }
    if ((v = json_object_get(j, "src_ctl"))
        && (error = error_in("src_ctl", ctl_from_json(v, &f->src_ctl)))) {
        return error;
    }
    if ((v = json_object_get(j, "dst_ctl"))
        && (error = error_in("dst_ctl", ctl_from_json(v, &f->dst_ctl)))) {
        return error;
    }

    error = end_from_json(json_object_get(j, "src"), &f->src);
    if (error) {
        char *full = xasprintf("\"src\": %s", error);

        free(error);
        return full;
    }
    error = end_from_json(json_object_get(j, "dst"), &f->dst);
    if (error) {
        char *full = xasprintf("\"dst\": %s", error);

        free(error);
        return full;
    }
    if ((error = get_string(j, "app", f->app, sizeof f->app))
        || (error = get_string(j, "master", f->master, sizeof f->master))
        || (error = get_string(j, "category", f->category,
                               sizeof f->category))
        || (error = get_string(j, "server_name", f->server_name,
                               sizeof f->server_name))) {
        return error;
    }
    if ((error = get_uint(j, "confidence", UINT8_MAX, &u))) {
        return error;
    }
    f->confidence = (uint8_t) u;
    if ((error = get_uint(j, "risk_score", UINT16_MAX, &u))) {
        return error;
    }
    f->risk_score = (uint16_t) u;
    if ((error = get_uint(j, "risks", UINT64_MAX, &f->risks))) {
        return error;
    }
    labels = json_object_get(j, "labels");
    if (!json_is_object(labels)) {
        return xstrdup("\"labels\": not an object");
    }
    json_object_foreach ((json_t *) labels, key, v) {
        if (!json_is_string(v)) {
            return xasprintf("\"labels.%s\": not a string", key);
        }
        if (!vnm_labels_add(&f->labels, key, json_string_value(v))) {
            return xstrdup("\"labels\": more than 8 labels");
        }
    }
    return NULL;
}
