/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The alert record: see alert-record.h and doc/alerts.md.  The detail is
 * written with jansson (escaping), the head by hand, in the exact form the
 * incident store's Lua script (analyzer/incident.c) writes it too.
 */
#include <config.h>

#include "analyzer/alert-record.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/flow-codec.h"
#include "lib/util.h"

bool
alert_record_kind_valid(const char *kind)
{
    size_t n = 0;

    if (!kind || !((kind[0] >= 'a' && kind[0] <= 'z')
                   || (kind[0] >= '0' && kind[0] <= '9'))) {
        return false;
    }
    for (const char *p = kind; *p; p++, n++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
              || *p == '-')) {
            return false;
        }
    }
    return n <= 64;
}

/* Returns the length of the valid UTF-8 sequence at the start of 's' (which
 * has 'n' > 0 bytes), or 0 if there is none. */
static size_t
utf8_sequence_len(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t c;

    if (s[0] < 0x80) {
        return 1;
    } else if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        c = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        c = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        c = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        c = (c << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff)))
        || (len == 4 && (c < 0x10000 || c > 0x10ffff))) {
        return 0;               /* Overlong, surrogate or out of range. */
    }
    return len;
}

/* Returns the first 'n' bytes of 's' as a JSON string, bytes that are not
 * UTF-8 replaced by U+FFFD. */
static json_t *
json_text(const char *s_, size_t n)
{
    const unsigned char *s = (const unsigned char *) s_;
    char *clean = xmalloc(3 * n + 1);
    size_t i = 0, len = 0;
    json_t *j;

    while (i < n) {
        size_t seq = utf8_sequence_len(s + i, n - i);

        if (!seq) {
            memcpy(clean + len, "\xef\xbf\xbd", 3);
            len += 3;
            i++;
        } else {
            memcpy(clean + len, s + i, seq);
            len += seq;
            i += seq;
        }
    }
    j = json_stringn_nocheck(clean, len);
    free(clean);
    return j;
}

/* 's' as a JSON string, or null if 's' is null. */
static json_t *
json_text_or_null(const char *s)
{
    return s ? json_text(s, strlen(s)) : json_null();
}

/* The fixed-size array 's' of 'size' bytes as a JSON string, or null if it
 * is empty. */
static json_t *
json_array_text(const char *s, size_t size)
{
    size_t n = strnlen(s, size);

    return n ? json_text(s, n) : json_null();
}

static json_t *
json_addr(const struct vnm_addr *addr)
{
    char text[INET6_ADDRSTRLEN];
    int af = (addr->family == 4 ? AF_INET
              : addr->family == 6 ? AF_INET6 : AF_UNSPEC);

    if (af != AF_UNSPEC && inet_ntop(af, addr->a, text, sizeof text)) {
        return json_string(text);
    }
    return json_null();
}

static json_t *
json_mac(const uint8_t mac[6])
{
    static const uint8_t zero[6];
    char text[18];

    if (!memcmp(mac, zero, sizeof zero)) {
        return json_null();
    }
    vnm_mac_format(mac, text);
    return json_string(text);
}

/* The name of the protocol of 'flow': the IP protocol ("tcp", "udp",
 * "icmp", "icmpv6", ..., "ip-N"), else "arp" or "eth-0xXXXX". */
static json_t *
json_protocol(const struct vnm_flow *flow)
{
    static const struct {
        uint8_t proto;
        const char *name;
    } names[] = {
        { 1, "icmp" }, { 2, "igmp" }, { 4, "ipip" }, { 6, "tcp" },
        { 17, "udp" }, { 41, "ipv6" }, { 47, "gre" }, { 50, "esp" },
        { 51, "ah" }, { 58, "icmpv6" }, { 112, "vrrp" }, { 132, "sctp" },
    };
    char text[16];

    if (flow->src.ip.family || flow->ip_proto) {
        for (size_t i = 0; i < VNM_ARRAY_SIZE(names); i++) {
            if (names[i].proto == flow->ip_proto) {
                return json_string(names[i].name);
            }
        }
        snprintf(text, sizeof text, "ip-%u", flow->ip_proto);
    } else if (flow->eth_type == 0x0806) {
        return json_string("arp");
    } else {
        snprintf(text, sizeof text, "eth-0x%04x", flow->eth_type);
    }
    return json_string(text);
}

/* True if 'flow' has ports: TCP, UDP or SCTP. */
static bool
has_ports(const struct vnm_flow *flow)
{
    return (flow->src.ip.family
            && (flow->ip_proto == 6 || flow->ip_proto == 17
                || flow->ip_proto == 132));
}

/* True if 'vm' names the port that 'in' does: the same attribution, or
 * one a detector completed from the network view (same port name). */
static bool
same_port(const struct vnm_attribution *vm, const struct vnm_attribution *in)
{
    return (vm == in || !memcmp(vm, in, sizeof *vm)
            || (vm->port[0]
                && !strncmp(vm->port, in->port, sizeof vm->port)));
}

/* The side of 'flow' whose frames entered on 'vm', or null. */
static const struct vnm_flow_end *
vm_side(const struct vnm_flow *flow, const struct vnm_attribution *vm)
{
    if (same_port(vm, &flow->src.in)) {
        return &flow->src;
    } else if (same_port(vm, &flow->dst.in)) {
        return &flow->dst;
    }
    return NULL;
}

char *
alert_record_detail(const struct vnm_alert *alert)
{
    const struct vnm_attribution *vm = alert->vm;
    const struct vnm_flow *flow = alert->flow;
    const struct vnm_flow_end *side = vm && flow ? vm_side(flow, vm) : NULL;
    uint32_t n_evidence = (alert->n_evidence < VNM_ALERT_MAX_EVIDENCE
                           ? alert->n_evidence : VNM_ALERT_MAX_EVIDENCE);
    json_t *o = json_object();
    json_t *evidence = json_array();
    char *text, *detail;
    size_t len;

    json_object_set_new(o, "detector", json_text_or_null(alert->detector));
    json_object_set_new(o, "key", json_text_or_null(alert->key));
    json_object_set_new(o, "tenant",
                        alert->tenant && alert->tenant[0]
                        ? json_text_or_null(alert->tenant) : json_null());
    json_object_set_new(o, "host",
                        alert->host_id && alert->host_id[0]
                        ? json_text_or_null(alert->host_id) : json_null());
    json_object_set_new(o, "port", (vm ? json_array_text(vm->port,
                                                         sizeof vm->port)
                                    : json_null()));
    json_object_set_new(o, "ofport", (vm && vm->ofport >= 0
                                      ? json_integer(vm->ofport)
                                      : json_null()));
    json_object_set_new(o, "iface_id",
                        (vm ? json_array_text(vm->iface_id,
                                              sizeof vm->iface_id)
                         : json_null()));
    json_object_set_new(o, "vm", (vm ? json_array_text(vm->vm, sizeof vm->vm)
                                  : json_null()));
    json_object_set_new(o, "mac", side ? json_mac(side->mac) : json_null());
    json_object_set_new(o, "src", flow ? json_addr(&flow->src.ip)
                        : json_null());
    json_object_set_new(o, "src_port", (flow && has_ports(flow)
                                        ? json_integer(flow->src.port)
                                        : json_null()));
    json_object_set_new(o, "dst", flow ? json_addr(&flow->dst.ip)
                        : json_null());
    json_object_set_new(o, "dst_port", (flow && has_ports(flow)
                                        ? json_integer(flow->dst.port)
                                        : json_null()));
    json_object_set_new(o, "protocol", flow ? json_protocol(flow)
                        : json_null());
    json_object_set_new(o, "application",
                        flow ? json_array_text(flow->app, sizeof flow->app)
                        : json_null());
    json_object_set_new(o, "target", json_text_or_null(alert->target));
    json_object_set_new(o, "summary", json_text_or_null(alert->summary));
    for (uint32_t i = 0; i < n_evidence; i++) {
        json_array_append_new(evidence,
                              json_text_or_null(alert->evidence[i]
                                                ? alert->evidence[i] : ""));
    }
    json_object_set_new(o, "evidence", evidence);

    text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    vnm_assert(text);
    /* Without the braces. */
    len = strlen(text);
    vnm_assert(len >= 2 && text[0] == '{' && text[len - 1] == '}');
    detail = xstrndup(text + 1, len - 2);
    free(text);
    return detail;
}

char *
alert_record_join(const char *kind, const struct alert_record_state *st,
                  const char *detail)
{
    char first[32], last[32];

    vnm_assert(alert_record_kind_valid(kind));
    return xasprintf("{\"id\":\"%s\",\"type\":\"%s\",\"severity\":\"%s\","
                     "\"state\":\"%s\",\"first_seen\":\"%s\","
                     "\"last_seen\":\"%s\",\"first_ms\":%"PRIu64","
                     "\"last_ms\":%"PRIu64",\"count\":%"PRIu64","
                     "\"packets\":%"PRIu64",\"bytes\":%"PRIu64","
                     "\"updates\":%"PRIu32",%s}",
                     st->id, kind, vnm_severity_name(st->severity),
                     vnm_alert_state_name(st->state),
                     vnm_format_time(st->first_ms, first, sizeof first),
                     vnm_format_time(st->last_ms, last, sizeof last),
                     st->first_ms, st->last_ms, st->count, st->packets,
                     st->bytes, st->n_updates, detail);
}

char *
alert_record_build(const struct vnm_alert *alert,
                   const struct alert_record_state *st)
{
    char *detail = alert_record_detail(alert);
    char *record = alert_record_join(alert->kind, st, detail);

    free(detail);
    return record;
}

/* Reading records back. */

/* Member 'key' of 'o' as a string, or null. */
static const char *
get_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Member 'key' of 'o', which must be a non-negative integer, into '*vp'. */
static bool
get_u64(const json_t *o, const char *key, uint64_t *vp)
{
    const json_t *v = json_object_get(o, key);

    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        return false;
    }
    *vp = (uint64_t) json_integer_value(v);
    return true;
}

static bool
parse_severity(const char *name, enum vnm_severity *sevp)
{
    for (int s = VNM_SEV_INFO; s <= VNM_SEV_CRITICAL; s++) {
        if (name && !strcmp(name, vnm_severity_name(s))) {
            *sevp = s;
            return true;
        }
    }
    return false;
}

static bool
parse_state(const char *name, enum vnm_alert_state *statep)
{
    for (int s = VNM_ALERT_OPEN; s <= VNM_ALERT_RESOLVED; s++) {
        if (name && !strcmp(name, vnm_alert_state_name(s))) {
            *statep = s;
            return true;
        }
    }
    return false;
}

int
alert_record_parse(const char *text, struct alert_record_view *view)
{
    struct vnm_alert *a = &view->alert;
    uint64_t n_updates;
    const json_t *ev, *line, *ofport;
    json_t *o;
    size_t i;

    memset(view, 0, sizeof *view);
    o = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        return EINVAL;
    }
    view->json = o;
    a->kind = get_str(o, "type");
    a->key = get_str(o, "key");
    a->summary = get_str(o, "summary");
    a->id = get_str(o, "id");
    if (!a->kind || !a->key || !a->summary || !a->id
        || !parse_severity(get_str(o, "severity"), &a->severity)
        || !parse_state(get_str(o, "state"), &a->state)
        || !get_u64(o, "first_ms", &a->first_ms)
        || !get_u64(o, "last_ms", &a->last_ms)
        || !get_u64(o, "count", &a->count)
        || !get_u64(o, "packets", &a->total_packets)
        || !get_u64(o, "bytes", &a->total_bytes)
        || !get_u64(o, "updates", &n_updates)) {
        alert_record_view_uninit(view);
        return EINVAL;
    }
    a->n_updates = (uint32_t) n_updates;
    a->target = get_str(o, "target");
    a->detector = get_str(o, "detector");
    a->tenant = get_str(o, "tenant");
    a->host_id = get_str(o, "host");
    if (get_str(o, "port")) {
        vnm_strlcpy(view->vm.port, get_str(o, "port"), sizeof view->vm.port);
        ofport = json_object_get(o, "ofport");
        view->vm.ofport = (json_is_integer(ofport)
                           ? (int32_t) json_integer_value(ofport) : -1);
        vnm_strlcpy(view->vm.iface_id, get_str(o, "iface_id")
                    ? get_str(o, "iface_id") : "", sizeof view->vm.iface_id);
        vnm_strlcpy(view->vm.vm, get_str(o, "vm") ? get_str(o, "vm") : "",
                    sizeof view->vm.vm);
        vnm_strlcpy(view->vm.tenant, a->tenant ? a->tenant : "",
                    sizeof view->vm.tenant);
        a->vm = &view->vm;
    }
    ev = json_object_get(o, "evidence");
    json_array_foreach (ev, i, line) {
        if (a->n_evidence < VNM_ALERT_MAX_EVIDENCE
            && json_is_string(line)) {
            a->evidence[a->n_evidence++] = json_string_value(line);
        }
    }
    a->json = text;
    return 0;
}

void
alert_record_view_uninit(struct alert_record_view *view)
{
    json_decref(view->json);
    view->json = NULL;
}
