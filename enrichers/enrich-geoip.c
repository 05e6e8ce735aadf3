/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Enricher "geoip": labels each flow record that has an external peer with
 * the peer's country, autonomous system number and organisation, looked up
 * in MaxMind DB files (libmaxminddb) that the operator names.
 *
 * Configuration, section [enricher "geoip"] (doc/configuration.md):
 *
 *   country_db  a GeoLite2/GeoIP2 Country or City database (or any .mmdb
 *               whose records have country.iso_code);
 *   asn_db      a GeoLite2/GeoIP2 ASN (or ISP) database.
 *
 * Either may be left out, not both.  Each file is opened (mmap'd) once, at
 * init(); a file that is missing, unreadable, not a MaxMind DB, or of the
 * wrong kind makes init() fail, with an ERR line naming the key and the
 * file.  Like the jsonl sink, this plugin opens files: the ones its section
 * names, and nothing else.
 *
 * Which address: the record's class (flow-class.c) says which side is
 * outside: the responder ('dst') of a vm-external flow, the initiator
 * ('src') of an external-vm one.  Other classes are not looked up.  Nor is
 * a peer whose address is not public (RFC 1918, CGNAT 100.64/10, loopback,
 * link-local, multicast, ULA fc00::/7...): a "vm-external" flow towards the
 * operator's own private networks has no country.  The documentation ranges
 * (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) count as
 * public, so that tests can use them.
 *
 * Labels (doc/flow-record.md): "peer_country" (ISO 3166-1 alpha-2 code:
 * the country's, else where the network is registered), "peer_asn" (the
 * AS number, decimal), "peer_org" (the AS organisation, truncated to a
 * label's 63 bytes on a UTF-8 character boundary).
 *
 * Cost: one MMDB_lookup_sockaddr() per database on the mmap'd tree (a few
 * hundred nanoseconds), no allocation, no lock.  Counters: "lookups"
 * (records with a public external peer), "country_hits", "asn_hits",
 * "misses" (a lookup that found nothing in any database), "not_public"
 * (external IP peers skipped as not public; non-IP flows are not counted),
 * "lookup_errors" (a corrupt database), "labels_full" (no room left for a
 * label, VNM_MAX_LABELS).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "vnmon/plugin.h"

/* One open database. */
struct geoip_db {
    bool open;                  /* MMDB_open() succeeded: MMDB_close() it. */
    MMDB_s mmdb;
};

/* The enricher's state. */
struct geoip {
    const struct vnm_host *host;
    struct geoip_db country;    /* [enricher] country_db. */
    struct geoip_db asn;        /* [enricher] asn_db. */
};

/* Lookup paths, for MMDB_aget_value(). */
static const char *const country_path[] = { "country", "iso_code", NULL };
static const char *const registered_path[] = { "registered_country",
                                               "iso_code", NULL };
static const char *const asn_path[] = { "autonomous_system_number", NULL };
static const char *const org_path[] = { "autonomous_system_organization",
                                        NULL };

/* True if 'type' (a database's metadata database_type) contains one of
 * the null-terminated 'words'. */
static bool
type_has(const char *type, const char *const *words)
{
    for (; *words; words++) {
        if (type && strstr(type, *words)) {
            return true;
        }
    }
    return false;
}

/* Opens the database named by 'key' of 'conf' into 'db', if the key is
 * set.  'kinds' are the words one of which its database_type must contain.
 * Returns 0 or a positive errno value, after logging why at ERR. */
static int
geoip_db_open(struct geoip *g, const struct vnm_conf *conf, const char *key,
              const char *const *kinds, struct geoip_db *db)
{
    const struct vnm_host *host = g->host;
    const char *path;
    int status;
    int error;

    error = host->conf_string(host, conf, key, NULL, &path);
    if (error || !path) {
        return error;
    }
    if (!path[0]) {
        host->log(host, VNM_LOG_ERR, "%s: empty file name", key);
        return EINVAL;
    }
    errno = 0;
    status = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb);
    if (status != MMDB_SUCCESS) {
        int sys = errno;

        if ((status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR)
            && sys) {
            host->log(host, VNM_LOG_ERR, "%s: %s: cannot open (%s)", key,
                      path, strerror(sys));
            return sys;
        }
        host->log(host, VNM_LOG_ERR, "%s: %s: not a usable MaxMind DB "
                  "file (%s)", key, path, MMDB_strerror(status));
        return EINVAL;
    }
    db->open = true;
    if (!type_has(db->mmdb.metadata.database_type, kinds)) {
        host->log(host, VNM_LOG_ERR, "%s: %s: is a \"%s\" database, not "
                  "%s", key, path,
                  db->mmdb.metadata.database_type
                  ? db->mmdb.metadata.database_type : "(untyped)",
                  !strcmp(key, "country_db")
                  ? "a Country or City one" : "an ASN or ISP one");
        return EINVAL;
    }
    host->log(host, VNM_LOG_INFO, "%s: %s (%s, IPv%d, built %"PRIu64")",
              key, path, db->mmdb.metadata.database_type,
              (int) db->mmdb.metadata.ip_version,
              db->mmdb.metadata.build_epoch);
    return 0;
}

static void
geoip_free(struct geoip *g)
{
    if (g) {
        if (g->country.open) {
            MMDB_close(&g->country.mmdb);
        }
        if (g->asn.open) {
            MMDB_close(&g->asn.mmdb);
        }
        free(g);
    }
}

static int
geoip_init(const struct vnm_host *host, const struct vnm_conf *conf,
           void **statep)
{
    static const char *const country_kinds[] = { "Country", "City",
                                                 "Enterprise", NULL };
    static const char *const asn_kinds[] = { "ASN", "ISP", NULL };
    struct geoip *g = calloc(1, sizeof *g);
    int error;

    if (!g) {
        return ENOMEM;
    }
    g->host = host;
    error = geoip_db_open(g, conf, "country_db", country_kinds, &g->country);
    if (!error) {
        error = geoip_db_open(g, conf, "asn_db", asn_kinds, &g->asn);
    }
    if (!error && !g->country.open && !g->asn.open) {
        host->log(host, VNM_LOG_ERR, "neither country_db nor asn_db is set: "
                  "nothing to look up");
        error = EINVAL;
    }
    if (error) {
        geoip_free(g);
        return error;
    }
    *statep = g;
    return 0;
}

static void
geoip_destroy(void *g)
{
    geoip_free(g);
}

/* True if 'a' is a public (globally routed) address; see the file's
 * comment for what is not. */
static bool
is_public(const struct vnm_addr *a)
{
    const uint8_t *b = a->a;

    if (a->family == 4) {
        return !(b[0] == 0                               /* 0/8 */
                 || b[0] == 10                           /* 10/8 */
                 || (b[0] == 100 && (b[1] & 0xc0) == 64) /* 100.64/10 */
                 || b[0] == 127                          /* 127/8 */
                 || (b[0] == 169 && b[1] == 254)         /* 169.254/16 */
                 || (b[0] == 172 && (b[1] & 0xf0) == 16) /* 172.16/12 */
                 || (b[0] == 192 && b[1] == 168)         /* 192.168/16 */
                 || b[0] >= 224);                        /* Multicast,
                                                          * 240/4. */
    } else if (a->family == 6) {
        static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                            0xff, 0xff };
        static const uint8_t zero[15];

        return !(!memcmp(b, zero, 15)                    /* ::, ::1 */
                 || !memcmp(b, mapped, 12)               /* ::ffff:0:0/96 */
                 || (b[0] & 0xfe) == 0xfc                /* fc00::/7 */
                 || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 */
                 || b[0] == 0xff);                       /* ff00::/8 */
    }
    return false;
}

/* Looks 'sa' up in 'db'.  Returns true and sets '*entry' if found.  Counts
 * errors. */
static bool
geoip_lookup(struct geoip *g, struct geoip_db *db, const struct sockaddr *sa,
             MMDB_entry_s *entry)
{
    MMDB_lookup_result_s result;
    int error;

    if (!db->open) {
        return false;
    }
    result = MMDB_lookup_sockaddr(&db->mmdb, sa, &error);
    if (error == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR) {
        return false;           /* An IPv4-only database: a miss. */
    } else if (error != MMDB_SUCCESS) {
        g->host->count(g->host, "lookup_errors", 1);
        return false;
    }
    if (!result.found_entry) {
        return false;
    }
    *entry = result.entry;
    return true;
}

/* Adds label 'key' with the 'len' bytes of 'value' (not NUL-terminated),
 * truncated to what a label holds without splitting a UTF-8 character.
 * Returns false if 'labels' is full. */
static bool
add_label(struct geoip *g, struct vnm_labels *labels, const char *key,
          const char *value, size_t len)
{
    char buf[VNM_LABEL_VALUE_SIZE];

    if (len >= sizeof buf) {
        len = sizeof buf - 1;
        /* Back off over continuation bytes (10xxxxxx) to the start of the
         * character that did not fit. */
        while (len > 0 && ((unsigned char) value[len] & 0xc0) == 0x80) {
            len--;
        }
    }
    memcpy(buf, value, len);
    buf[len] = '\0';
    if (!vnm_labels_add(labels, key, buf)) {
        g->host->count(g->host, "labels_full", 1);
        return false;
    }
    return true;
}

/* Labels 'labels' with the country of 'entry'.  Returns true if it had
 * one. */
static bool
label_country(struct geoip *g, MMDB_entry_s *entry,
              struct vnm_labels *labels)
{
    MMDB_entry_data_s data;

    if ((MMDB_aget_value(entry, &data, country_path) != MMDB_SUCCESS
         || !data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING)
        && (MMDB_aget_value(entry, &data, registered_path) != MMDB_SUCCESS
            || !data.has_data
            || data.type != MMDB_DATA_TYPE_UTF8_STRING)) {
        return false;
    }
    add_label(g, labels, "peer_country", data.utf8_string, data.data_size);
    return true;
}

/* Labels 'labels' with the AS number and organisation of 'entry'.
 * Returns true if it had a number. */
static bool
label_asn(struct geoip *g, MMDB_entry_s *entry, struct vnm_labels *labels)
{
    MMDB_entry_data_s data;
    char asn[16];
    int n;

    if (MMDB_aget_value(entry, &data, asn_path) != MMDB_SUCCESS
        || !data.has_data || data.type != MMDB_DATA_TYPE_UINT32) {
        return false;
    }
    n = snprintf(asn, sizeof asn, "%"PRIu32, data.uint32);
    if (!add_label(g, labels, "peer_asn", asn, (size_t) n)) {
        return true;
    }
    if (MMDB_aget_value(entry, &data, org_path) == MMDB_SUCCESS
        && data.has_data && data.type == MMDB_DATA_TYPE_UTF8_STRING) {
        add_label(g, labels, "peer_org", data.utf8_string, data.data_size);
    }
    return true;
}

/* Adds the peer's labels to 'labels'.  'flow' is borrowed. */
static void
geoip_enrich(void *state, const struct vnm_flow *flow,
             struct vnm_labels *labels)
{
    struct geoip *g = state;
    const struct vnm_addr *peer;
    struct sockaddr_storage ss;
    MMDB_entry_s entry;
    bool hit = false;

    if (flow->class == VNM_FLOW_VM_EXTERNAL) {
        peer = &flow->dst.ip;
    } else if (flow->class == VNM_FLOW_EXTERNAL_VM) {
        peer = &flow->src.ip;
    } else {
        return;
    }
    if (!peer->family) {
        return;                 /* ARP and other non-IP flows. */
    }
    if (!is_public(peer)) {
        g->host->count(g->host, "not_public", 1);
        return;
    }

    memset(&ss, 0, sizeof ss);
    if (peer->family == 4) {
        struct sockaddr_in *sin = (struct sockaddr_in *) &ss;

        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, peer->a, 4);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;

        sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, peer->a, 16);
    }
    g->host->count(g->host, "lookups", 1);

    if (geoip_lookup(g, &g->country, (struct sockaddr *) &ss, &entry)
        && label_country(g, &entry, labels)) {
        g->host->count(g->host, "country_hits", 1);
        hit = true;
    }
    if (geoip_lookup(g, &g->asn, (struct sockaddr *) &ss, &entry)
        && label_asn(g, &entry, labels)) {
        g->host->count(g->host, "asn_hits", 1);
        hit = true;
    }
    if (!hit) {
        g->host->count(g->host, "misses", 1);
    }
}

static const struct vnm_enricher_ops geoip_ops = {
    .enrich = geoip_enrich,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_ENRICHER, .name = "geoip",
                  .version = "1.0", .init = geoip_init,
                  .destroy = geoip_destroy, .enricher = &geoip_ops);
