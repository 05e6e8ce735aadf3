/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alert sink "redis-stream": appends every incident record the analyzer
 * delivers (its opening, its updates, its resolution) to Redis Streams,
 * one global stream and one per tenant, for consumers that want a push
 * feed they can resume (XREAD BLOCK, consumer groups).
 *
 * Configuration, section [sink "redis-stream"] (see doc/alerting.md):
 *
 *   address       "unix:PATH" or "tcp:HOST:PORT" (default
 *                 "tcp:127.0.0.1:6379").
 *   user          Redis ACL user (default: none, AUTH with password only).
 *   password      AUTH password (default: none, no AUTH).
 *   maxlen        approximate length each stream is trimmed to
 *                 (XADD MAXLEN ~), default 100000; 0 for no trimming.
 *   timeout       the longest a delivery may block: connecting, and each
 *                 command (default 5s).
 *
 * Each incident becomes one entry, with fields id, type, severity, state,
 * tenant (empty if none) and json (the alert record, doc/alerts.md), in
 * "vnm:alerts:stream" and, if it has a tenant, in
 * "vnm:t:TENANT:alerts:stream" (TENANT escaped as bw_escape() does, so
 * that the ACL pattern "~vnm:t:TENANT:*" of `vnmonctl tenant add` covers
 * it).  Both XADDs go in one MULTI/EXEC.  If Redis cannot be reached or
 * answers an error, the delivery is EAGAIN (the host spools the incident
 * and retries; a retry after an ambiguous failure may add the entry twice,
 * with the same id), the connection is dropped and the next delivery
 * reconnects.
 *
 * Built as sink-redis-stream.so like any third-party sink: it links no
 * host symbol (only hiredis) and exports only 'vnm_plugin'.
 */
#include <config.h>

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "alerting/sink-util.h"
#include "vnmon/plugin.h"

#define GLOBAL_STREAM "vnm:alerts:stream"

/* The sink's state. */
struct rstream {
    const struct vnm_host *host;
    const char *address;        /* The host's copy, valid until destroy(). */
    char *tcp_host;             /* For tcp:, else null. */
    int tcp_port;
    const char *unix_path;      /* For unix:, else null. */
    const char *username;       /* Null for none. */
    const char *password;       /* Null for none. */
    int64_t maxlen;             /* 0 for no trimming. */
    struct timeval timeout;


    redisContext *redis;        /* Connected, or null. */
    bool broken;                /* The last attempt failed (logged once). */
};

/* Keys. */

/* As lib/bw-series.c's bw_escape(), which a plugin cannot link. */
static bool
needs_escape(unsigned char c)
{
    return c <= ' ' || c >= 0x7f || strchr(":*?[]{}\\%", c);
}

/* "vnm:t:TENANT:alerts:stream", malloc'd, or null on allocation
 * failure. */
static char *
tenant_stream(const char *tenant)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = sizeof "vnm:t::alerts:stream";
    char *key, *p;

    for (const char *q = tenant; *q; q++) {
        n += needs_escape((unsigned char) *q) ? 3 : 1;
    }
    key = malloc(n);
    if (!key) {
        return NULL;
    }
    memcpy(key, "vnm:t:", 6);
    p = key + 6;
    for (const char *q = tenant; *q; q++) {
        unsigned char c = (unsigned char) *q;

        if (needs_escape(c)) {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        } else {
            *p++ = (char) c;
        }
    }
    memcpy(p, ":alerts:stream", sizeof ":alerts:stream");
    return key;
}

/* The connection. */

static void
rstream_disconnect(struct rstream *r)
{
    if (r->redis) {
        redisFree(r->redis);
        r->redis = NULL;
    }
}

/* Logs failure 'what' at WARN the first time, at debug level while it
 * lasts. */
static void
rstream_failed(struct rstream *r, const char *what)
{
    r->host->log(r->host, r->broken ? VNM_LOG_DBG : VNM_LOG_WARN, "%s: %s",
                 r->address, what);
    r->broken = true;
    r->host->count(r->host, "send_errors", 1);
}

/* Connects (and authenticates) if not connected.  Returns 0 or EAGAIN
 * (logged). */
static int
rstream_connect(struct rstream *r)
{
    redisReply *reply;
    char what[256];

    if (r->redis) {
        return 0;
    }
    r->redis = (r->unix_path
                ? redisConnectUnixWithTimeout(r->unix_path, r->timeout)
                : redisConnectWithTimeout(r->tcp_host, r->tcp_port,
                                          r->timeout));
    if (!r->redis || r->redis->err) {
        snprintf(what, sizeof what, "cannot connect (%s)",
                 r->redis ? r->redis->errstr : "out of memory");
        goto error;
    }
    if (redisSetTimeout(r->redis, r->timeout) != REDIS_OK) {
        snprintf(what, sizeof what, "cannot set timeout");
        goto error;
    }
    if (r->password) {
        reply = (r->username
                 ? redisCommand(r->redis, "AUTH %s %s", r->username,
                                r->password)
                 : redisCommand(r->redis, "AUTH %s", r->password));
        if (!reply || reply->type == REDIS_REPLY_ERROR) {
            snprintf(what, sizeof what, "cannot authenticate (%s)",
                     reply ? reply->str : r->redis->errstr);
            freeReplyObject(reply);
            goto error;
        }
        freeReplyObject(reply);
    }
    return 0;

error:
    rstream_failed(r, what);
    rstream_disconnect(r);
    return EAGAIN;
}

/* Queues XADD 'key' for 'alert'. */
static void
append_xadd(struct rstream *r, const char *key,
            const struct vnm_alert *alert)
{
    const char *argv[18];
    size_t n = 0;
    char maxlen[24];

    argv[n++] = "XADD";
    argv[n++] = key;
    if (r->maxlen) {
        snprintf(maxlen, sizeof maxlen, "%lld", (long long) r->maxlen);
        argv[n++] = "MAXLEN";
        argv[n++] = "~";
        argv[n++] = maxlen;
    }
    argv[n++] = "*";
    argv[n++] = "id";
    argv[n++] = alert->id ? alert->id : "";
    argv[n++] = "type";
    argv[n++] = alert->kind ? alert->kind : "";
    argv[n++] = "severity";
    argv[n++] = vnm_severity_name(alert->severity);
    argv[n++] = "state";
    argv[n++] = vnm_alert_state_name(alert->state);
    argv[n++] = "tenant";
    argv[n++] = alert->tenant ? alert->tenant : "";
    argv[n++] = "json";
    argv[n++] = alert->json;
    redisAppendCommandArgv(r->redis, n, argv, NULL);
}

/* Plugin callbacks. */

static void
rstream_destroy(void *state)
{
    struct rstream *r = state;

    rstream_disconnect(r);
    free(r->tcp_host);
    free(r);
}

/* Parses 'address' into r's tcp_host and tcp_port or unix_path.  Returns
 * 0 or EINVAL (logged). */
static int
parse_address(struct rstream *r, const char *address)
{
    if (!strncmp(address, "unix:", 5) && address[5]) {
        r->unix_path = address + 5;
        return 0;
    } else if (!strncmp(address, "tcp:", 4)) {
        const char *host = address + 4;
        const char *colon = strrchr(host, ':');
        size_t len;
        char *end;
        long port;

        if (colon && colon != host && colon[1]) {
            port = strtol(colon + 1, &end, 10);
            len = colon - host;
            if (host[0] == '[' && colon[-1] == ']') {
                host++;
                len -= 2;
            }
            if (!*end && port > 0 && port < 65536 && len > 0) {
                r->tcp_host = strndup(host, len);
                r->tcp_port = port;
                return r->tcp_host ? 0 : ENOMEM;
            }
        }
    }
    r->host->log(r->host, VNM_LOG_ERR, "address: %s: expected unix:PATH or "
                 "tcp:HOST:PORT", address);
    return EINVAL;
}

static int
rstream_init(const struct vnm_host *host, const struct vnm_conf *conf,
             void **statep)
{
    const char *address, *username, *password;
    int64_t maxlen, timeout_ms;
    struct rstream *r;
    int error;

    if ((error = host->conf_string(host, conf, "address",
                                   "tcp:127.0.0.1:6379", &address))
        || (error = host->conf_string(host, conf, "user", "", &username))
        || (error = host->conf_string(host, conf, "password", "", &password))
        || (error = host->conf_int(host, conf, "maxlen", 100000, 0,
                                   INT64_MAX, &maxlen))
        || (error = host->conf_duration(host, conf, "timeout", 5000, 1,
                                        60000, &timeout_ms))) {
        return error;
    }

    r = calloc(1, sizeof *r);
    if (!r) {
        return ENOMEM;
    }
    r->host = host;
    r->address = address;
    r->username = *username ? username : NULL;
    r->password = *password ? password : NULL;
    r->maxlen = maxlen;
    r->timeout.tv_sec = timeout_ms / 1000;
    r->timeout.tv_usec = (timeout_ms % 1000) * 1000;
    if (r->username && !r->password) {
        host->log(host, VNM_LOG_ERR, "user needs a password");
        error = EINVAL;
        goto error;
    }
    error = parse_address(r, address);
    if (error) {
        goto error;
    }
    *statep = r;
    return 0;

error:
    rstream_destroy(r);
    return error;
}

/* Adds 'alert' to its streams.  'alert' is borrowed. */
static int
rstream_deliver(void *state, const struct vnm_alert *alert)
{
    struct rstream *r = state;
    char *tkey = NULL;
    size_t n_replies;
    char what[256];
    bool ok = true;

    if (!alert->json) {
        return EINVAL;
    }
    if (alert->tenant && *alert->tenant) {
        tkey = tenant_stream(alert->tenant);
        if (!tkey) {
            return EAGAIN;
        }
    }
    if (rstream_connect(r)) {
        free(tkey);
        return EAGAIN;
    }

    redisAppendCommand(r->redis, "MULTI");
    append_xadd(r, GLOBAL_STREAM, alert);
    if (tkey) {
        append_xadd(r, tkey, alert);
    }
    redisAppendCommand(r->redis, "EXEC");
    n_replies = tkey ? 4 : 3;
    free(tkey);

    what[0] = '\0';
    for (size_t i = 0; i < n_replies; i++) {
        redisReply *reply;

        if (redisGetReply(r->redis, (void **) &reply) != REDIS_OK) {
            snprintf(what, sizeof what, "cannot add to stream (%s)",
                     r->redis->errstr[0] ? r->redis->errstr
                     : "connection lost");
            ok = false;
            break;
        }
        if (reply->type == REDIS_REPLY_ERROR
            || (i == n_replies - 1 && reply->type != REDIS_REPLY_ARRAY)) {
            if (!what[0]) {
                snprintf(what, sizeof what, "cannot add to stream (%s)",
                         reply->type == REDIS_REPLY_ERROR ? reply->str
                         : "transaction aborted");
            }
            ok = false;
        } else if (i == n_replies - 1) {
            for (size_t j = 0; j < reply->elements; j++) {
                if (reply->element[j]->type == REDIS_REPLY_ERROR) {
                    snprintf(what, sizeof what, "cannot add to stream (%s)",
                             reply->element[j]->str);
                    ok = false;
                }
            }
        }
        freeReplyObject(reply);
    }
    if (!ok) {
        rstream_failed(r, what);
        rstream_disconnect(r);
        return EAGAIN;
    }
    if (r->broken) {
        r->host->log(r->host, VNM_LOG_INFO, "%s: adding again", r->address);
        r->broken = false;
    }
    r->host->count(r->host, "delivered", 1);
    return 0;
}

static const struct vnm_sink_ops rstream_ops = {
    .deliver = rstream_deliver,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_SINK, .name = "redis-stream",
                  .version = "1.0", .init = rstream_init,
                  .destroy = rstream_destroy, .sink = &rstream_ops);
