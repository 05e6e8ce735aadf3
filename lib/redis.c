/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Redis layer: see redis.h.  The only file that includes hiredis.
 */
#include <config.h>

#include "lib/redis.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "lib/conf.h"
#include "lib/log.h"

VNM_LOG_MODULE(redis);

enum {
    BACKOFF_MIN_MS = 250,
    REMINDER_FIRST_MS = 60 * 1000,
};

/* Monotonic clock in microseconds, for round-trip times. */
static uint64_t
mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

struct vnm_redis {
    char *address;              /* Normalised: "unix:..." or "tcp:h:p". */
    char *host;                 /* TCP host or unix path. */
    int port;                   /* TCP port, 0 for unix. */
    char *user;
    char *password;
    int64_t database;
    int64_t timeout_ms;
    int64_t reconnect_max_ms;

    redisContext *ctx;          /* Null while disconnected. */
    size_t n_pending;           /* Appended, replies not read. */
    uint64_t backoff_ms;        /* Current retry delay. */
    uint64_t next_attempt_ms;   /* Monotonic time of the next retry. */
    bool in_outage;             /* Logged as down, not yet as back. */
    uint64_t outage_start_mono;
    uint64_t next_reminder_ms;  /* Monotonic time of the next reminder. */
    uint64_t reminder_interval_ms;
    uint64_t dropped_in_outage;

    struct vnm_redis_stats stats;
};

/* Accounts one round trip that started at 'start_us' (mono_us()). */
static void
note_round_trip(struct vnm_redis *r, uint64_t start_us)
{
    uint64_t us = mono_us() - start_us;

    r->stats.n_round_trips++;
    r->stats.rtt_last_us = us;
    r->stats.rtt_total_us += us;
    if (us > r->stats.rtt_max_us) {
        r->stats.rtt_max_us = us;
    }
}

char *
vnm_redis_options_from_conf(const struct vnm_conf *conf,
                            struct vnm_redis_options *opts)
{
    char *error;

    memset(opts, 0, sizeof *opts);
    if ((error = vnm_conf_get_string(conf, "address", "tcp:127.0.0.1:6379",
                                     &opts->address))
        || (error = vnm_conf_get_string(conf, "user", NULL, &opts->user))
        || (error = vnm_conf_get_string(conf, "password", NULL,
                                        &opts->password))
        || (error = vnm_conf_get_int(conf, "database", 0, 0, 1000000,
                                     &opts->database))
        || (error = vnm_conf_get_duration(conf, "timeout", 2000, 10, 60000,
                                          &opts->timeout_ms))
        || (error = vnm_conf_get_duration(conf, "reconnect_max", 5000, 250,
                                          3600000,
                                          &opts->reconnect_max_ms))) {
        return error;
    }
    if (!vnm_redis_address_valid(opts->address)) {
        return (conf
                ? vnm_conf_error(conf, "address", "\"%s\" is not a Redis "
                                 "address (unix:PATH, tcp:HOST:PORT or "
                                 "HOST:PORT)", opts->address)
                : xasprintf("\"%s\" is not a Redis address", opts->address));
    }
    return NULL;
}

/* Splits 'address' into host/path and port; returns false if malformed. */
static bool
parse_address(struct vnm_redis *r, const char *address)
{
    const char *rest = address;
    const char *colon;
    char *end;
    long port;

    if (!strncmp(address, "unix:", 5)) {
        if (!address[5]) {
            return false;
        }
        r->host = xstrdup(address + 5);
        r->port = 0;
        r->address = xstrdup(address);
        return true;
    }
    if (!strncmp(address, "tcp:", 4)) {
        rest = address + 4;
    }
    colon = strrchr(rest, ':');
    if (!colon || colon == rest) {
        return false;
    }
    port = strtol(colon + 1, &end, 10);
    if (*end || port <= 0 || port > 65535) {
        return false;
    }
    r->host = xstrndup(rest, (size_t) (colon - rest));
    r->port = (int) port;
    r->address = xasprintf("tcp:%s:%ld", r->host, port);
    return true;
}

bool
vnm_redis_address_valid(const char *address)
{
    struct vnm_redis r;
    bool ok;

    memset(&r, 0, sizeof r);
    ok = parse_address(&r, address);
    free(r.host);
    free(r.address);
    return ok;
}

struct vnm_redis *
vnm_redis_create(const struct vnm_redis_options *opts)
{
    struct vnm_redis *r = xzalloc(sizeof *r);

    if (!parse_address(r, opts->address)) {
        /* Callers validate with vnm_redis_address_valid(); keep going
         * with what will fail to connect. */
        free(r->host);
        r->host = xstrdup(opts->address);
        r->port = 0;
        free(r->address);
        r->address = xstrdup(opts->address);
    }
    r->user = opts->user ? xstrdup(opts->user) : NULL;
    r->password = opts->password ? xstrdup(opts->password) : NULL;
    r->database = opts->database;
    r->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 2000;
    r->reconnect_max_ms = (opts->reconnect_max_ms > 0
                           ? opts->reconnect_max_ms : 5000);
    r->backoff_ms = BACKOFF_MIN_MS;
    return r;
}

static void
disconnect(struct vnm_redis *r)
{
    if (r->ctx) {
        redisFree(r->ctx);
        r->ctx = NULL;
    }
    r->stats.connected = false;
    r->stats.connected_since_ms = 0;
}

/* Notes the start of an outage because of 'why' (logged once). */
static void
outage_begins(struct vnm_redis *r, const char *what, const char *why)
{
    uint64_t now = vnm_time_mono_ms();

    disconnect(r);
    r->stats.n_dropped += r->n_pending;
    r->n_pending = 0;
    r->next_attempt_ms = now + r->backoff_ms;
    if (r->in_outage) {
        return;
    }
    r->in_outage = true;
    r->outage_start_mono = now;
    r->stats.outage_start_ms = vnm_time_wall_ms();
    r->stats.n_outages++;
    r->dropped_in_outage = r->stats.n_dropped;
    r->reminder_interval_ms = REMINDER_FIRST_MS;
    r->next_reminder_ms = now + r->reminder_interval_ms;
    VNM_WARN("redis %s: %s (%s); retrying with backoff up to %"PRId64" ms",
             r->address, what, why, r->reconnect_max_ms);
}

static void
outage_ends(struct vnm_redis *r)
{
    uint64_t now = vnm_time_mono_ms();

    r->stats.connected = true;
    r->stats.connected_since_ms = vnm_time_wall_ms();
    r->stats.n_connects++;
    r->backoff_ms = BACKOFF_MIN_MS;
    if (r->in_outage) {
        r->in_outage = false;
        r->stats.last_outage_ms = now - r->outage_start_mono;
        VNM_INFO("redis %s: connected again after %.1f s (%"PRIu64" commands "
                 "dropped meanwhile)", r->address,
                 (double) r->stats.last_outage_ms / 1000.0,
                 r->stats.n_dropped - r->dropped_in_outage);
    } else {
        VNM_INFO("redis %s: connected", r->address);
    }
}

/* Runs 'argv' synchronously during connection setup; returns false and
 * fills 'why' on failure. */
static bool
setup_command(struct vnm_redis *r, char *why, size_t why_size,
              const char *format, ...)
{
    redisReply *reply;
    va_list args;
    bool ok;

    va_start(args, format);
    reply = redisvCommand(r->ctx, format, args);
    va_end(args);
    if (!reply) {
        snprintf(why, why_size, "%s", r->ctx->errstr);
        return false;
    }
    ok = reply->type != REDIS_REPLY_ERROR;
    if (!ok) {
        snprintf(why, why_size, "%s", reply->str);
    }
    freeReplyObject(reply);
    return ok;
}

int
vnm_redis_connect(struct vnm_redis *r)
{
    struct timeval tv = {
        .tv_sec = r->timeout_ms / 1000,
        .tv_usec = (r->timeout_ms % 1000) * 1000,
    };
    char why[256];

    if (r->ctx) {
        return 0;
    }
    r->ctx = (r->port
              ? redisConnectWithTimeout(r->host, r->port, tv)
              : redisConnectUnixWithTimeout(r->host, tv));
    if (!r->ctx || r->ctx->err) {
        snprintf(why, sizeof why, "%s",
                 r->ctx ? r->ctx->errstr : "out of memory");
        goto error;
    }
    if (redisSetTimeout(r->ctx, tv) != REDIS_OK) {
        snprintf(why, sizeof why, "cannot set timeout: %s", r->ctx->errstr);
        goto error;
    }
    if (r->port) {
        redisEnableKeepAlive(r->ctx);
    }
    if (r->password && r->user
        && !setup_command(r, why, sizeof why, "AUTH %s %s", r->user,
                          r->password)) {
        goto error;
    }
    if (r->password && !r->user
        && !setup_command(r, why, sizeof why, "AUTH %s", r->password)) {
        goto error;
    }
    if (r->database
        && !setup_command(r, why, sizeof why, "SELECT %"PRId64,
                          r->database)) {
        goto error;
    }
    outage_ends(r);
    return 0;

error:
    r->backoff_ms = (r->in_outage
                     ? (r->backoff_ms * 2 > (uint64_t) r->reconnect_max_ms
                        ? (uint64_t) r->reconnect_max_ms : r->backoff_ms * 2)
                     : BACKOFF_MIN_MS);
    outage_begins(r, "cannot connect", why);
    return ECONNREFUSED;
}

void
vnm_redis_run(struct vnm_redis *r)
{
    uint64_t now = vnm_time_mono_ms();

    if (r->ctx) {
        return;
    }
    if (r->in_outage && now >= r->next_reminder_ms) {
        VNM_WARN("redis %s: still unreachable after %"PRIu64" s (%"PRIu64
                 " commands dropped)", r->address,
                 (now - r->outage_start_mono) / 1000,
                 r->stats.n_dropped - r->dropped_in_outage);
        r->reminder_interval_ms *= 2;
        r->next_reminder_ms = now + r->reminder_interval_ms;
    }
    if (now >= r->next_attempt_ms) {
        vnm_redis_connect(r);
    }
}

bool
vnm_redis_is_connected(const struct vnm_redis *r)
{
    return r->ctx != NULL;
}

const char *
vnm_redis_address(const struct vnm_redis *r)
{
    return r->address;
}

int
vnm_redis_append(struct vnm_redis *r, const char *format, ...)
{
    va_list args;
    int ret;

    if (!r->ctx) {
        r->stats.n_dropped++;
        return ENOTCONN;
    }
    va_start(args, format);
    ret = redisvAppendCommand(r->ctx, format, args);
    va_end(args);
    if (ret != REDIS_OK) {
        outage_begins(r, "connection lost", r->ctx->errstr);
        return ENOTCONN;
    }
    r->n_pending++;
    return 0;
}

int
vnm_redis_append_argv(struct vnm_redis *r, int argc, const char **argv,
                      const size_t *argvlen)
{
    if (!r->ctx) {
        r->stats.n_dropped++;
        return ENOTCONN;
    }
    if (redisAppendCommandArgv(r->ctx, argc, argv, argvlen) != REDIS_OK) {
        outage_begins(r, "connection lost", r->ctx->errstr);
        return ENOTCONN;
    }
    r->n_pending++;
    return 0;
}

size_t
vnm_redis_pending(const struct vnm_redis *r)
{
    return r->n_pending;
}

int
vnm_redis_flush(struct vnm_redis *r)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(6, 3);
    bool timed = r->ctx && r->n_pending > 0;
    uint64_t start_us = timed ? mono_us() : 0;

    while (r->ctx && r->n_pending > 0) {
        redisReply *reply = NULL;

        if (redisGetReply(r->ctx, (void **) &reply) != REDIS_OK) {
            char why[256];

            snprintf(why, sizeof why, "%s", r->ctx->errstr);
            outage_begins(r, "connection lost", why);
            return ENOTCONN;
        }
        r->n_pending--;
        r->stats.n_commands++;
        if (reply->type == REDIS_REPLY_ERROR) {
            r->stats.n_errors++;
            VNM_WARN_RL(&rl, "redis %s: command failed: %s", r->address,
                        reply->str);
        }
        freeReplyObject(reply);
    }
    if (timed && r->ctx) {
        note_round_trip(r, start_us);
    }
    return r->ctx ? 0 : ENOTCONN;
}

static json_t *
reply_to_json(const redisReply *reply)
{
    json_t *array;

    switch (reply->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        return json_stringn_nocheck(reply->str, reply->len);
    case REDIS_REPLY_INTEGER:
        return json_integer(reply->integer);
    case REDIS_REPLY_ARRAY:
        array = json_array();
        for (size_t i = 0; i < reply->elements; i++) {
            json_array_append_new(array, reply_to_json(reply->element[i]));
        }
        return array;
    case REDIS_REPLY_NIL:
    default:
        return json_null();
    }
}

int
vnm_redis_vquery(struct vnm_redis *r, json_t **replyp, const char *format,
                 va_list args)
{
    redisReply *reply;
    uint64_t start_us;
    int error;

    *replyp = NULL;
    error = vnm_redis_flush(r);
    if (error) {
        return error;
    }
    if (!r->ctx) {
        return ENOTCONN;
    }
    start_us = mono_us();
    reply = redisvCommand(r->ctx, format, args);
    if (!reply) {
        char why[256];

        snprintf(why, sizeof why, "%s", r->ctx->errstr);
        outage_begins(r, "connection lost", why);
        return ENOTCONN;
    }
    note_round_trip(r, start_us);
    r->stats.n_commands++;
    *replyp = reply_to_json(reply);
    error = reply->type == REDIS_REPLY_ERROR ? EIO : 0;
    if (error) {
        r->stats.n_errors++;
    }
    freeReplyObject(reply);
    return error;
}

int
vnm_redis_query(struct vnm_redis *r, json_t **replyp, const char *format,
                ...)
{
    va_list args;
    int error;

    va_start(args, format);
    error = vnm_redis_vquery(r, replyp, format, args);
    va_end(args);
    return error;
}

int
vnm_redis_query_batch(struct vnm_redis *r, size_t n, const int *argcs,
                      const char *const *const *argvs, json_t **repliesp)
{
    json_t *replies;
    uint64_t start_us;
    int error;

    *repliesp = NULL;
    error = vnm_redis_flush(r);
    if (error) {
        return error;
    }
    if (!r->ctx) {
        return ENOTCONN;
    }
    start_us = mono_us();
    for (size_t i = 0; i < n; i++) {
        if (redisAppendCommandArgv(r->ctx, argcs[i], (const char **) argvs[i],
                                   NULL) != REDIS_OK) {
            outage_begins(r, "connection lost", r->ctx->errstr);
            return ENOTCONN;
        }
    }
    replies = json_array();
    for (size_t i = 0; i < n; i++) {
        redisReply *reply;

        if (redisGetReply(r->ctx, (void **) &reply) != REDIS_OK || !reply) {
            char why[256];

            snprintf(why, sizeof why, "%s", r->ctx->errstr);
            json_decref(replies);
            outage_begins(r, "connection lost", why);
            return ENOTCONN;
        }
        r->stats.n_commands++;
        if (reply->type == REDIS_REPLY_ERROR) {
            r->stats.n_errors++;
        }
        json_array_append_new(replies, reply_to_json(reply));
        freeReplyObject(reply);
    }
    note_round_trip(r, start_us);
    *repliesp = replies;
    return 0;
}

void
vnm_redis_get_stats(const struct vnm_redis *r, struct vnm_redis_stats *stats)
{
    *stats = r->stats;
    stats->n_pending = r->n_pending;
}

void
vnm_redis_destroy(struct vnm_redis *r)
{
    if (!r) {
        return;
    }
    if (r->ctx) {
        vnm_redis_flush(r);
    }
    disconnect(r);
    free(r->address);
    free(r->host);
    free(r->user);
    free(r->password);
    free(r);
}
