/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Detector "ndpi-risk": flows that nDPI flags as risky.
 *
 * The agent's classifier (ovs-ext/classify-ndpi.c) puts nDPI's risk bitmap
 * in flow->risks and its score (ndpi_risk2score(): the sum of each risk's
 * score, 10 low, 50 medium, 100 high, 250 severe) in flow->risk_score.
 * This detector links no nDPI: it names the risks from a table of nDPI
 * 4.2's ndpi_risk_enum (bit numbers, ndpi_risk2str() texts and scores,
 * checked against the library by tests/unit/test-detect-ndpi-risk.c's
 * expectations).  Risks listed in 'ignore' (by the enum's name without its
 * "NDPI_" prefix, in lowercase, e.g. "tls_obsolete_version", or by bit
 * number) are taken out, and their scores subtracted; a flow whose score is
 * then at least 'min_score' raises "ndpi-risk".
 *
 * The default 'min_score' of 100 is one "high" risk (or a medium and
 * lesser ones).  Over the 16173 flows that the agent finds in the 543
 * captures of nDPI's own test suite, 18% have a score of 10 or more, 14% of
 * 50 or more (most of them "Known Protocol on Non Standard Port"), and
 * 3.5% of 100 or more, half of these obsolete TLS versions and weak
 * ciphers of old captures; 0.2% reach 250 (severe: injections, exploits,
 * binary transfers).  See doc/alerts.md.
 *
 * The incident concerns the flow's VM (its initiator if a VM, else its
 * responder) and the peer: key "HOST/PORT>PEER" (detect-util.h), target
 * the peer's address.  Severity follows the score unless configured: low
 * under 100, medium from 100, high from 250.  Each record of a risky flow
 * updates the incident with its packets and bytes (both ways) not counted
 * before (du_delta()); emissions are merged so that an incident is emitted
 * at most once a second.
 *
 * Configuration: section [detector "ndpi-risk"], keys in doc/alerts.md.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/detect-util.h"
#include "vnmon/plugin.h"


/* One nDPI 4.2 risk (ndpi_risk_enum). */
struct risk {
    unsigned bit;               /* Its enum value, the bit in the bitmap. */
    const char *id;             /* The enum's name, without "NDPI_". */
    const char *text;           /* ndpi_risk2str(). */
    unsigned score;             /* ndpi_risk2score() of it alone. */
};

static const struct risk risks[] = {
    { 1, "url_possible_xss", "XSS Attack", 250 },
    { 2, "url_possible_sql_injection", "SQL Injection", 250 },
    { 3, "url_possible_rce_injection", "RCE Injection", 250 },
    { 4, "binary_application_transfer", "Binary Application Transfer", 250 },
    { 5, "known_protocol_on_non_standard_port",
      "Known Protocol on Non Standard Port", 50 },
    { 6, "tls_selfsigned_certificate", "Self-signed Certificate", 100 },
    { 7, "tls_obsolete_version", "Obsolete TLS Version (1.1 or older)", 100 },
    { 8, "tls_weak_cipher", "Weak TLS Cipher", 100 },
    { 9, "tls_certificate_expired", "TLS Expired Certificate", 100 },
    { 10, "tls_certificate_mismatch", "TLS Certificate Mismatch", 100 },
    { 11, "http_suspicious_user_agent", "HTTP Suspicious User-Agent", 100 },
    { 12, "http_numeric_ip_host", "HTTP Numeric IP Address", 10 },
    { 13, "http_suspicious_url", "HTTP Suspicious URL", 100 },
    { 14, "http_suspicious_header", "HTTP Suspicious Header", 100 },
    { 15, "tls_not_carrying_https", "TLS (probably) Not Carrying HTTPS", 10 },
    { 16, "suspicious_dga_domain", "Suspicious DGA Domain name", 100 },
    { 17, "malformed_packet", "Malformed Packet", 10 },
    { 18, "ssh_obsolete_client_version_or_cipher",
      "SSH Obsolete Client Version/Cipher", 100 },
    { 19, "ssh_obsolete_server_version_or_cipher",
      "SSH Obsolete Server Version/Cipher", 50 },
    { 20, "smb_insecure_version", "SMB Insecure Version", 100 },
    { 21, "tls_suspicious_esni_usage", "TLS Suspicious ESNI Usage", 50 },
    { 22, "unsafe_protocol", "Unsafe Protocol", 10 },
    { 23, "dns_suspicious_traffic", "Suspicious DNS Traffic", 100 },
    { 24, "tls_missing_sni", "Missing SNI TLS Extension", 50 },
    { 25, "http_suspicious_content", "HTTP Suspicious Content", 100 },
    { 26, "risky_asn", "Risky ASN", 50 },
    { 27, "risky_domain", "Risky Domain Name", 50 },
    { 28, "malicious_ja3", "Possibly Malicious JA3 Fingerprint", 50 },
    { 29, "malicious_sha1_certificate",
      "Possibly Malicious SSL Cert. SHA1 Fingerprint", 50 },
    { 30, "desktop_or_file_sharing_session",
      "Desktop/File Sharing Session", 10 },
    { 31, "tls_uncommon_alpn", "Uncommon TLS ALPN", 50 },
    { 32, "tls_cert_validity_too_long",
      "TLS Certificate Validity Too Long", 50 },
    { 33, "tls_suspicious_extension", "TLS Suspicious Extension", 100 },
    { 34, "tls_fatal_alert", "TLS Fatal Alert", 10 },
    { 35, "suspicious_entropy", "Suspicious Entropy", 50 },
    { 36, "clear_text_credentials", "Clear-Text Credentials", 100 },
    { 37, "dns_large_packet", "DNS Packet Larger Than 512 bytes", 50 },
    { 38, "dns_fragmented", "Fragmented DNS Message", 50 },
    { 39, "invalid_characters",
      "Text Contains Non-Printable Characters", 100 },
    { 40, "possible_exploit", "Possible Exploit Detected", 250 },
    { 41, "tls_certificate_about_to_expire",
      "TLS Certificate About To Expire", 50 },
};

/* The detector's state. */
struct ndpi_risk {
    const struct vnm_host *host;
    const struct vnm_net_ops *net; /* Null on a host older than ABI 1.1. */
    int64_t min_score;
    uint64_t ignore;            /* Bits of ignored risks. */
    bool auto_severity;         /* Severity by score. */
    enum vnm_severity severity; /* Else this one. */
    struct du_deltas *deltas;
    struct du_emitter *emitter; /* Limits emissions to one a second. */
};

/* The risk of bit 'bit', or null if this table does not know it. */
static const struct risk *
risk_find(unsigned bit)
{
    for (size_t i = 0; i < sizeof risks / sizeof risks[0]; i++) {
        if (risks[i].bit == bit) {
            return &risks[i];
        }
    }
    return NULL;
}

static bool
is_vm_attribution(const struct vnm_attribution *in)
{
    return in->port[0] && (in->vm[0] || in->iface_id[0] || in->tenant[0]);
}

/* True if side 'src_side' of 'flow' is a VM. */
static bool
side_is_vm(const struct ndpi_risk *r, const struct vnm_flow *flow,
           bool src_side)
{
    const struct vnm_flow_end *end = src_side ? &flow->src : &flow->dst;
    const struct vnm_port *port;

    if (is_vm_attribution(&end->in)) {
        return true;
    } else if (!r->net || !end->in.port[0]) {
        return false;
    }
    port = r->net->port(r->host, flow->host, end->in.port);
    return port && port->kind == VNM_PORT_VM;
}

/* Formats the risks of 'bits' as "HTTP Suspicious User-Agent (100), ..."
 * into 'buf'. */
static void
risks_format(uint64_t bits, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    for (unsigned bit = 0; bit < 64 && len < size; bit++) {
        const struct risk *risk;

        if (!(bits & (UINT64_C(1) << bit))) {
            continue;
        }
        risk = risk_find(bit);
        if (risk) {
            len += snprintf(buf + len, size - len, "%s%s (%u)",
                            len ? ", " : "", risk->text, risk->score);
        } else {
            len += snprintf(buf + len, size - len, "%srisk %u",
                            len ? ", " : "", bit);
        }
    }
}

/* Checks 'flow''s risks.  'flow' is borrowed. */
static void
ndpi_risk_on_flow(void *state, const struct vnm_flow *flow)
{
    uint64_t packets, bytes, answers, answer_bytes, bits, ignored;
    struct ndpi_risk *r = state;
    const struct vnm_flow_end *vm_end, *peer_end;
    const struct vnm_port *port = NULL;
    struct vnm_attribution vm, tmp;
    char key[VNM_ID_SIZE + VNM_PORT_NAME_SIZE + 100];
    char vm_ip[46], peer_ip[46], who[VNM_PORT_NAME_SIZE + 60];
    char peer[80], names[512], summary[512], evidence[3][256];
    bool vm_is_src, has_vm;
    unsigned score;
    struct vnm_alert alert = {
        .kind = "ndpi-risk",
        .key = key,
        .summary = summary,
        .target = peer_ip,
        .flow = flow,
    };

    bits = flow->risks & ~r->ignore;
    if (!bits) {
        return;
    }
    ignored = flow->risks & r->ignore;
    score = flow->risk_score;
    for (unsigned bit = 0; bit < 64; bit++) {
        const struct risk *risk = risk_find(bit);

        if ((ignored & (UINT64_C(1) << bit)) && risk) {
            score = score > risk->score ? score - risk->score : 0;
        }
    }
    if (score < (uint64_t) r->min_score) {
        return;
    }
    du_delta(r->deltas, flow, true, &packets, &bytes);
    du_delta(r->deltas, flow, false, &answers, &answer_bytes);
    if (!packets && !answers) {
        return;                 /* Seen already. */
    }
    r->host->count(r->host, "risky_records", 1);

    /* The VM: the initiator if it is one, else the responder. */
    vm_is_src = side_is_vm(r, flow, true) || !side_is_vm(r, flow, false);
    has_vm = side_is_vm(r, flow, vm_is_src);
    vm_end = vm_is_src ? &flow->src : &flow->dst;
    peer_end = vm_is_src ? &flow->dst : &flow->src;
    if (r->net && vm_end->in.port[0]) {
        port = r->net->port(r->host, flow->host, vm_end->in.port);
    }
    vm = *du_attribution(&vm_end->in, port, &tmp);
    du_addr(&vm_end->ip, vm_ip);
    du_addr(&peer_end->ip, peer_ip);
    if (has_vm) {
        alert.vm = &vm;
        du_key(flow, &vm, peer_ip, key, sizeof key);
        snprintf(who, sizeof who, "%s (%s)", vm.port, vm_ip);
    } else {
        snprintf(key, sizeof key, "%s/%s>%s", flow->host, vm_ip, peer_ip);
        snprintf(who, sizeof who, "%s", vm_ip);
    }
    if (peer_end->ip.family == 6) {
        snprintf(peer, sizeof peer, "[%s]:%"PRIu16, peer_ip, peer_end->port);
    } else {
        snprintf(peer, sizeof peer, "%s:%"PRIu16, peer_ip, peer_end->port);
    }

    risks_format(bits, names, sizeof names);
    snprintf(summary, sizeof summary, "%s %s %s%s%s: nDPI risk score %u: %s",
             who, vm_is_src ? "to" : "from", peer,
             flow->app[0] ? " " : "", flow->app, score, names);
    alert.severity = (!r->auto_severity ? r->severity
                      : score >= 250 ? VNM_SEV_HIGH
                      : score >= 100 ? VNM_SEV_MEDIUM : VNM_SEV_LOW);
    alert.packets = packets + answers;
    alert.bytes = bytes + answer_bytes;

    snprintf(evidence[0], sizeof evidence[0], "nDPI %s%s%s%s, score %u: %s",
             flow->app[0] ? flow->app : "Unknown",
             flow->category[0] ? " (" : "", flow->category,
             flow->category[0] ? ")" : "", score, names);
    alert.evidence[alert.n_evidence++] = evidence[0];
    if (flow->server_name[0]) {
        size_t len = strlen(evidence[0]);

        snprintf(evidence[0] + len, sizeof evidence[0] - len,
                 " | server %s", flow->server_name);
    }
    du_evidence(flow, true, evidence[1], sizeof evidence[1]);
    alert.evidence[alert.n_evidence++] = evidence[1];
    if (flow->dst.packets) {
        du_evidence(flow, false, evidence[2], sizeof evidence[2]);
        alert.evidence[alert.n_evidence++] = evidence[2];
    }
    du_emitter_emit(r->emitter, &alert);
}

static void
ndpi_risk_on_tick(void *state, uint64_t now_ms)
{
    struct ndpi_risk *r = state;

    du_emitter_tick(r->emitter, now_ms);
}

/* Lifecycle. */

static void
ndpi_risk_destroy(void *state)
{
    struct ndpi_risk *r = state;

    du_emitter_destroy(r->emitter);
    du_deltas_destroy(r->deltas);
    free(r);
}

/* Parses 'list' (risk names or bit numbers, separated by commas or spaces)
 * into '*bitsp'.  Returns false (logging why) if it is not valid. */
static bool
parse_ignore(const struct vnm_host *host, const char *list, uint64_t *bitsp)
{
    const char *p = list;

    *bitsp = 0;
    while (*p) {
        size_t len = strcspn(p, ", \t");
        const struct risk *risk = NULL;
        char word[64];

        if (!len) {
            p++;
            continue;
        }
        snprintf(word, sizeof word, "%.*s", (int) (len < 63 ? len : 63), p);
        p += len;
        for (size_t i = 0; i < sizeof risks / sizeof risks[0]; i++) {
            char number[8];

            snprintf(number, sizeof number, "%u", risks[i].bit);
            if (!strcmp(word, risks[i].id) || !strcmp(word, number)) {
                risk = &risks[i];
            }
        }
        if (!risk) {
            host->log(host, VNM_LOG_ERR, "ignore: \"%s\" is not an nDPI risk "
                      "(see doc/alerts.md)", word);
            return false;
        }
        *bitsp |= UINT64_C(1) << risk->bit;
    }
    return true;
}

static int
ndpi_risk_init(const struct vnm_host *host, const struct vnm_conf *conf,
               void **statep)
{
    int64_t max_flows;
    const char *ignore, *severity_name;
    enum vnm_severity severity = VNM_SEV_MEDIUM;
    struct ndpi_risk *r;
    int64_t min_score;
    uint64_t bits;
    int error;

    if ((error = host->conf_int(host, conf, "min_score", 100, 1, 65535,
                                &min_score))
        || (error = host->conf_string(host, conf, "ignore", "", &ignore))
        || (error = host->conf_int(host, conf, "max_flows", 65536, 1,
                                   10000000, &max_flows))
        || (error = host->conf_string(host, conf, "severity", "auto",
                                      &severity_name))) {
        return error;
    }
    if (strcmp(severity_name, "auto")
        && !du_severity(severity_name, &severity)) {
        host->log(host, VNM_LOG_ERR, "severity: \"%s\" is not one of auto, "
                  "info, low, medium, high, critical", severity_name);
        return EINVAL;
    }
    if (!parse_ignore(host, ignore, &bits)) {
        return EINVAL;
    }

    r = calloc(1, sizeof *r);
    if (!r) {
        return ENOMEM;
    }
    r->deltas = du_deltas_create(max_flows);
    r->emitter = du_emitter_create(host);
    if (!r->deltas || !r->emitter) {
        du_emitter_destroy(r->emitter);
        du_deltas_destroy(r->deltas);
        free(r);
        return ENOMEM;
    }
    r->host = host;
    r->net = VNM_HOST_HAS(host, net) ? host->net : NULL;
    r->min_score = min_score;
    r->ignore = bits;
    r->auto_severity = !strcmp(severity_name, "auto");
    r->severity = severity;
    *statep = r;
    return 0;
}

static const struct vnm_detector_ops ndpi_risk_ops = {
    .on_flow = ndpi_risk_on_flow,
    .on_tick = ndpi_risk_on_tick,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_DETECTOR, .name = "ndpi-risk",
                  .version = "1.0", .init = ndpi_risk_init,
                  .destroy = ndpi_risk_destroy, .detector = &ndpi_risk_ops);
