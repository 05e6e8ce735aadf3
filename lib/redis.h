/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Redis layer: one synchronous hiredis connection with timeouts,
 * pipelining, reconnection with exponential backoff, and outage accounting.
 * This is the only file that includes hiredis: replies come back as jansson
 * values, and hiredis errors become an errno value plus one log line here.
 *
 * Writes are pipelined: vnm_redis_append*() queue commands, vnm_redis_flush()
 * sends them and reads every reply.  While the server is unreachable,
 * appended commands are dropped and counted (the store is best effort; what
 * must not be lost is spooled by its owner), and vnm_redis_run() retries the
 * connection with backoff: 250 ms doubling to 'reconnect_max'.
 *
 * An outage is logged once at WARN when it starts, with reminders at WARN
 * after 1, 2, 4... minutes, and once at INFO when it ends.
 *
 * Not thread-safe: one connection per thread.
 */
#ifndef VNM_REDIS_H
#define VNM_REDIS_H 1

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

struct json_t;
struct vnm_conf;

/* Connection settings ([redis] section). */
struct vnm_redis_options {
    const char *address;        /* "unix:/path", "tcp:host:port" or
                                 * "host:port". */
    const char *user;           /* AUTH user name (Redis 6 ACL), or null
                                 * for the default user. */
    const char *password;       /* AUTH password, or null. */
    int64_t database;           /* SELECT index, 0 by default. */
    int64_t timeout_ms;         /* Connect and command timeout. */
    int64_t reconnect_max_ms;   /* Backoff ceiling. */
};

/* Connection and traffic statistics. */
struct vnm_redis_stats {
    bool connected;
    uint64_t connected_since_ms; /* Wall clock, 0 if not connected. */
    uint64_t n_connects;        /* Successful connections. */
    uint64_t n_outages;         /* Connections lost or never made. */
    uint64_t outage_start_ms;   /* Start of the current or last outage. */
    uint64_t last_outage_ms;    /* Length of the last ended outage. */
    uint64_t n_commands;        /* Commands sent and answered. */
    uint64_t n_dropped;         /* Commands dropped while unreachable. */
    uint64_t n_errors;          /* Error replies. */

    /* Round trips: a flush of queued commands, a query or a batch, from
     * the first byte sent to the last reply read (monotonic clock).  Those
     * that lost the connection are not counted. */
    uint64_t n_round_trips;     /* Round trips completed. */
    uint64_t rtt_last_us;       /* Duration of the last one, in us. */
    uint64_t rtt_max_us;        /* The longest one, in us. */
    uint64_t rtt_total_us;      /* Sum of all, in us (for an average). */
    uint64_t n_pending;         /* Commands queued, not yet flushed, as of
                                 * vnm_redis_get_stats(). */
};

/* Reads the [redis] section 'conf' (may be null) into 'opts', whose strings
 * point into 'conf'.  Returns NULL or a malloc'd "FILE:LINE: KEY: reason". */
char *vnm_redis_options_from_conf(const struct vnm_conf *conf,
                                  struct vnm_redis_options *opts)
    VNM_WARN_UNUSED;

/* True if 'address' is a well-formed Redis address. */
bool vnm_redis_address_valid(const char *address);

/* Creates a connection object for 'opts' (copied), without connecting. */
struct vnm_redis *vnm_redis_create(const struct vnm_redis_options *opts);
/* Flushes what is queued, if connected, and closes.  Accepts null. */
void vnm_redis_destroy(struct vnm_redis *);

/* Connects now if not connected (ignoring backoff).  Returns 0 or an errno
 * value. */
int vnm_redis_connect(struct vnm_redis *);
/* Reconnects if disconnected and the backoff delay has passed.  Call it
 * periodically (every 100 ms to 1 s). */
void vnm_redis_run(struct vnm_redis *);
/* True if connected. */
bool vnm_redis_is_connected(const struct vnm_redis *);
/* "unix:/run/redis.sock" or "tcp:127.0.0.1:6379". */
const char *vnm_redis_address(const struct vnm_redis *);

/* Queues one command given as printf-like format ('%s' and '%b' as in
 * hiredis's redisCommand()).  Returns 0, or ENOTCONN (command dropped). */
int vnm_redis_append(struct vnm_redis *, const char *format, ...);
/* Queues one command given as 'argc' binary-safe arguments. */
int vnm_redis_append_argv(struct vnm_redis *, int argc, const char **argv,
                          const size_t *argvlen);
/* Commands queued and not yet flushed. */
size_t vnm_redis_pending(const struct vnm_redis *);
/* Sends queued commands and reads their replies, counting error replies.
 * Returns 0, or an errno value if the connection was lost (then the
 * commands whose replies did not arrive count as dropped). */
int vnm_redis_flush(struct vnm_redis *);

/* Runs one command synchronously (flushing the queue first) and stores its
 * reply in '*replyp' as JSON: strings and status replies as strings,
 * integers as integers, nil as null, arrays as arrays.  Returns 0; EIO with
 * '*replyp' a JSON string holding the message for an error reply; or
 * another errno value if not connected or the connection failed.  The
 * caller owns '*replyp' (json_decref()). */
int vnm_redis_query(struct vnm_redis *, struct json_t **replyp,
                    const char *format, ...);

/* The same, with a va_list. */
int vnm_redis_vquery(struct vnm_redis *, struct json_t **replyp,
                     const char *format, va_list);

/* Runs 'n' commands, command i given as argcs[i] NUL-terminated arguments
 * argvs[i], in one pipeline, and stores their replies in '*repliesp' as a
 * JSON array (an error reply as a string, counted in 'n_errors').
 * Returns 0, or an errno value if not connected or the connection failed
 * (then '*repliesp' is NULL). */
int vnm_redis_query_batch(struct vnm_redis *, size_t n, const int *argcs,
                          const char *const *const *argvs,
                          struct json_t **repliesp);

/* Copies the statistics into '*stats'. */
void vnm_redis_get_stats(const struct vnm_redis *,
                         struct vnm_redis_stats *stats);

#endif /* redis.h */
