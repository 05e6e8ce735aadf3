/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Detector "geo": flows between a VM and an external peer whose country or
 * autonomous system is not allowed.
 *
 * The agent's "geoip" enricher (enrichers/enrich-geoip.c) labels the
 * records of flows with a public external peer with "peer_country" (ISO
 * 3166-1 alpha-2 code) and "peer_asn" (decimal AS number), and "peer_org".
 * This detector reads those labels: a country is refused if it is in
 * 'deny_countries', or if 'allow_countries' is not empty and does not hold
 * it; the same for AS numbers with 'deny_asns' and 'allow_asns'.  A record
 * without a label is not judged on it (a private or unknown peer).  With
 * every list empty, the default, nothing is refused.
 *
 * The VM is the flow's responder for an external-to-VM flow, else its
 * initiator.  The incident is keyed by the VM and what was refused:
 * "HOST/PORT>CC" (the country code) if the country is refused, else
 * "HOST/PORT>ASN" (e.g. "AS64500"), so that a VM talking to many peers of
 * one refused country is one incident; its summary and evidence name the
 * peer.  Each record updates the incident with its packets and bytes (both
 * ways) not counted before (du_delta()); emissions are merged so that an
 * incident is emitted at most once a second.
 *
 * Configuration: section [detector "geo"], keys in doc/alerts.md.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzer/detect-util.h"
#include "vnmon/plugin.h"


/* The detector's state. */
struct geo {
    const struct vnm_host *host;
    const struct vnm_net_ops *net; /* Null on a host older than ABI 1.1. */
    const char *allow_countries; /* Lists, as configured. */
    const char *deny_countries;
    const char *allow_asns;
    const char *deny_asns;
    enum vnm_severity severity;
    struct du_deltas *deltas;
    struct du_emitter *emitter; /* Limits emissions to one a second. */
};

/* The value of label 'key' of 'flow', or null. */
static const char *
label(const struct vnm_flow *flow, const char *key)
{
    for (uint32_t i = 0; i < flow->labels.n && i < VNM_MAX_LABELS; i++) {
        if (!strcmp(flow->labels.label[i].key, key)) {
            return flow->labels.label[i].value;
        }
    }
    return NULL;
}

/* True if the list 'list' (words separated by commas or spaces) holds
 * 'word', ignoring case, and for AS numbers ('asns') an "AS" prefix. */
static bool
list_has(const char *list, const char *word, bool asns)
{
    const char *p = list;

    while (*p) {
        size_t len = strcspn(p, ", \t");

        if (asns && len > 2 && !strncasecmp(p, "AS", 2)) {
            p += 2;
            len -= 2;
        }
        if (len && len == strlen(word) && !strncasecmp(p, word, len)) {
            return true;
        }
        p += len;
        p += strspn(p, ", \t");
    }
    return false;
}

/* True if 'value' is refused by the lists 'allow' and 'deny' (of AS
 * numbers if 'asns', else of countries). */
static bool
refused(const char *value, const char *allow, const char *deny, bool asns)
{
    return (value && value[0]
            && (list_has(deny, value, asns)
                || (allow[0] && !list_has(allow, value, asns))));
}

/* Checks 'list' of country codes or AS numbers ('asns').  Returns false,
 * logging why, if a word is not one. */
static bool
list_valid(const struct vnm_host *host, const char *key, const char *list,
           bool asns)
{
    const char *p = list;

    while (*p) {
        size_t len = strcspn(p, ", \t");
        const char *w = p;
        bool ok = len > 0;

        if (asns && len > 2 && !strncasecmp(w, "AS", 2)) {
            w += 2;
        }
        for (const char *c = w; c < p + len; c++) {
            ok = ok && (asns ? isdigit((unsigned char) *c)
                        : isalpha((unsigned char) *c));
        }
        if (!asns && len != 2) {
            ok = false;
        }
        if (len && !ok) {
            host->log(host, VNM_LOG_ERR, "%s: \"%.*s\" is not %s", key,
                      (int) len, p, asns ? "an AS number"
                      : "a two-letter country code");
            return false;
        }
        p += len;
        p += strspn(p, ", \t");
    }
    return true;
}

static bool
is_vm_attribution(const struct vnm_attribution *in)
{
    return in->port[0] && (in->vm[0] || in->iface_id[0] || in->tenant[0]);
}

/* Judges 'flow'.  'flow' is borrowed. */
static void
geo_on_flow(void *state, const struct vnm_flow *flow)
{
    uint64_t packets, bytes, answers, answer_bytes;
    struct geo *g = state;
    const char *country = label(flow, "peer_country");
    const char *asn = label(flow, "peer_asn");
    const char *org = label(flow, "peer_org");
    const struct vnm_flow_end *vm_end, *peer_end;
    const struct vnm_port *port = NULL;
    struct vnm_attribution vm, tmp;
    char key[VNM_ID_SIZE + VNM_PORT_NAME_SIZE + 100];
    char target[32], vm_ip[46], peer_ip[46], who[VNM_PORT_NAME_SIZE + 60];
    char where[160], summary[512], evidence[3][256];
    bool by_country, vm_is_src;
    struct vnm_alert alert = {
        .kind = "geo",
        .severity = g->severity,
        .key = key,
        .summary = summary,
        .target = target,
        .flow = flow,
    };

    if (!country && !asn) {
        return;
    }
    by_country = refused(country, g->allow_countries, g->deny_countries,
                         false);
    if (!by_country && !refused(asn, g->allow_asns, g->deny_asns, true)) {
        return;
    }
    du_delta(g->deltas, flow, true, &packets, &bytes);
    du_delta(g->deltas, flow, false, &answers, &answer_bytes);
    if (!packets && !answers) {
        return;                 /* Seen already. */
    }
    g->host->count(g->host, "refused_records", 1);

    vm_is_src = flow->class != VNM_FLOW_EXTERNAL_VM;
    vm_end = vm_is_src ? &flow->src : &flow->dst;
    peer_end = vm_is_src ? &flow->dst : &flow->src;
    if (g->net && vm_end->in.port[0]) {
        port = g->net->port(g->host, flow->host, vm_end->in.port);
    }
    vm = *du_attribution(&vm_end->in, port, &tmp);
    du_addr(&vm_end->ip, vm_ip);
    du_addr(&peer_end->ip, peer_ip);
    if (by_country) {
        snprintf(target, sizeof target, "%s", country);
    } else {
        snprintf(target, sizeof target, "AS%s", asn);
    }
    if (is_vm_attribution(&vm)
        || (port && port->kind == VNM_PORT_VM)) {
        alert.vm = &vm;
        du_key(flow, &vm, target, key, sizeof key);
        snprintf(who, sizeof who, "%s (%s)", vm.port, vm_ip);
    } else {
        snprintf(key, sizeof key, "%s/%s>%s", flow->host, vm_ip, target);
        snprintf(who, sizeof who, "%s", vm_ip);
    }
    snprintf(where, sizeof where, "country %s, AS%s%s%s",
             country ? country : "?", asn ? asn : "?",
             org ? " " : "", org ? org : "");
    snprintf(summary, sizeof summary, "%s %s %s:%"PRIu16" (%s): %s not "
             "allowed", who, vm_is_src ? "to" : "from", peer_ip,
             peer_end->port, where,
             by_country ? "country" : "autonomous system");
    alert.packets = packets + answers;
    alert.bytes = bytes + answer_bytes;

    snprintf(evidence[0], sizeof evidence[0], "peer %s: %s", peer_ip, where);
    alert.evidence[alert.n_evidence++] = evidence[0];
    du_evidence(flow, true, evidence[1], sizeof evidence[1]);
    alert.evidence[alert.n_evidence++] = evidence[1];
    if (flow->dst.packets) {
        du_evidence(flow, false, evidence[2], sizeof evidence[2]);
        alert.evidence[alert.n_evidence++] = evidence[2];
    }
    du_emitter_emit(g->emitter, &alert);
}

static void
geo_on_tick(void *state, uint64_t now_ms)
{
    struct geo *g = state;

    du_emitter_tick(g->emitter, now_ms);
}

/* Lifecycle. */

static void
geo_destroy(void *state)
{
    struct geo *g = state;

    du_emitter_destroy(g->emitter);
    du_deltas_destroy(g->deltas);
    free(g);
}

static int
geo_init(const struct vnm_host *host, const struct vnm_conf *conf,
         void **statep)
{
    int64_t max_flows;
    const char *allow_countries, *deny_countries, *allow_asns, *deny_asns;
    const char *severity_name;
    enum vnm_severity severity;
    struct geo *g;
    int error;

    if ((error = host->conf_string(host, conf, "allow_countries", "",
                                   &allow_countries))
        || (error = host->conf_string(host, conf, "deny_countries", "",
                                      &deny_countries))
        || (error = host->conf_string(host, conf, "allow_asns", "",
                                      &allow_asns))
        || (error = host->conf_string(host, conf, "deny_asns", "",
                                      &deny_asns))
        || (error = host->conf_int(host, conf, "max_flows", 65536, 1,
                                   10000000, &max_flows))
        || (error = host->conf_string(host, conf, "severity", "medium",
                                      &severity_name))) {
        return error;
    }
    if ((error = du_check_severity(host, "severity", severity_name,
                                   &severity))) {
        return error;
    }
    if (!list_valid(host, "allow_countries", allow_countries, false)
        || !list_valid(host, "deny_countries", deny_countries, false)
        || !list_valid(host, "allow_asns", allow_asns, true)
        || !list_valid(host, "deny_asns", deny_asns, true)) {
        return EINVAL;
    }

    g = calloc(1, sizeof *g);
    if (!g) {
        return ENOMEM;
    }
    g->deltas = du_deltas_create(max_flows);
    g->emitter = du_emitter_create(host);
    if (!g->deltas || !g->emitter) {
        du_emitter_destroy(g->emitter);
        du_deltas_destroy(g->deltas);
        free(g);
        return ENOMEM;
    }
    g->host = host;
    g->net = VNM_HOST_HAS(host, net) ? host->net : NULL;
    g->allow_countries = allow_countries;
    g->deny_countries = deny_countries;
    g->allow_asns = allow_asns;
    g->deny_asns = deny_asns;
    g->severity = severity;
    *statep = g;
    return 0;
}

static const struct vnm_detector_ops geo_ops = {
    .on_flow = geo_on_flow,
    .on_tick = geo_on_tick,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "geo",
                  .version = "1.0", .init = geo_init, .destroy = geo_destroy,
                  .detector = &geo_ops);
