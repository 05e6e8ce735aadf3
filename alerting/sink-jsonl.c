/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alert sink "jsonl": appends every incident the analyzer delivers (a new
 * one or an update) as one line of JSON to a local file, for log shippers,
 * audit trails and `tail -f | jq`.
 *
 * Configuration, section [sink "jsonl"] (see doc/):
 *
 *   path      file to append to; required.
 *   fsync     fsync() after every line (bool, default false).
 *   max_size  bytes; when a line would make the file bigger, the file is
 *             first renamed to PATH.1 (one generation kept) and a new one
 *             started.  0, the default, means no limit.
 *
 * Each line is written with a single write() on a file opened with
 * O_APPEND, so a reader never sees half a line.  A line that cannot be
 * written is reported to the host as EAGAIN (it spools the incident and
 * retries later) and counted as "write_errors".  If the file is moved away
 * or deleted (logrotate), the next tick reopens PATH.
 *
 * The JSON is written by hand: the plugin depends on nothing but libc.
 * Strings are escaped per RFC 8259 and bytes that are not valid UTF-8 are
 * replaced by U+FFFD, so that every line parses.  The fields are
 * documented in doc/ ("jsonl sink").
 *
 * Built as sink-jsonl.so like any third-party sink: it links no host
 * symbol and exports only 'vnm_plugin'.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vnmon/plugin.h"

/* A growable output buffer.  After an allocation failure 'failed' is set
 * and further appends do nothing. */
struct jbuf {
    char *s;
    size_t len;
    size_t allocated;
    bool failed;
};

/* The sink's state. */
struct jsonl {
    const struct vnm_host *host;
    const char *path;           /* The host's copy, valid until destroy(). */
    char *old_path;             /* PATH.1. */
    bool fsync;
    uint64_t max_size;          /* 0 for no limit. */
    int fd;                     /* Open on 'path', or -1 after a failed
                                 * reopen. */
    bool broken;                /* The last open failed (logged once). */
    bool rotate_failed;         /* The last rotation failed (logged once). */
    uint64_t size;              /* Bytes in the file behind 'fd'. */
    struct jbuf line;           /* Reused for every line. */
};

/* Output buffer. */

static bool
jbuf_reserve(struct jbuf *b, size_t n)
{
    if (b->failed) {
        return false;
    }
    if (b->allocated - b->len < n) {
        size_t allocated = b->allocated ? b->allocated : 1024;
        char *s;

        while (allocated - b->len < n) {
            allocated *= 2;
        }
        s = realloc(b->s, allocated);
        if (!s) {
            b->failed = true;
            return false;
        }
        b->s = s;
        b->allocated = allocated;
    }
    return true;
}

static void
jbuf_put(struct jbuf *b, const void *p, size_t n)
{
    if (jbuf_reserve(b, n)) {
        memcpy(b->s + b->len, p, n);
        b->len += n;
    }
}

static void
jbuf_puts(struct jbuf *b, const char *s)
{
    jbuf_put(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
jbuf_printf(struct jbuf *b, const char *format, ...)
{
    char tmp[64];
    va_list args;
    int n;

    va_start(args, format);
    n = vsnprintf(tmp, sizeof tmp, format, args);
    va_end(args);
    if (n >= 0 && (size_t) n < sizeof tmp) {
        jbuf_put(b, tmp, n);
    } else {
        b->failed = true;       /* Only used for short numbers. */
    }
}

/* Returns the length of the valid UTF-8 sequence at the start of 's' (which
 * has 'n' > 0 bytes), or 0 if it is not one. */
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

/* Appends the 'n' bytes of 's' as a JSON string. */
static void
jbuf_string_n(struct jbuf *b, const char *s_, size_t n)
{
    const unsigned char *s = (const unsigned char *) s_;
    size_t i = 0;

    jbuf_put(b, "\"", 1);
    while (i < n) {
        size_t len = utf8_sequence_len(s + i, n - i);

        if (!len) {
            jbuf_puts(b, "\\ufffd");
            i++;
        } else if (s[i] == '"' || s[i] == '\\') {
            jbuf_put(b, "\\", 1);
            jbuf_put(b, s + i, 1);
            i++;
        } else if (s[i] < 0x20) {
            jbuf_printf(b, "\\u%04x", s[i]);
            i++;
        } else {
            jbuf_put(b, s + i, len);
            i += len;
        }
    }
    jbuf_put(b, "\"", 1);
}

/* Appends 's' as a JSON string, or null if 's' is null. */
static void
jbuf_string(struct jbuf *b, const char *s)
{
    if (s) {
        jbuf_string_n(b, s, strlen(s));
    } else {
        jbuf_puts(b, "null");
    }
}

/* Appends the fixed-size array 's' of 'size' bytes as a JSON string, or
 * null if it is empty. */
static void
jbuf_array_string(struct jbuf *b, const char *s, size_t size)
{
    size_t n = strnlen(s, size);

    if (n) {
        jbuf_string_n(b, s, n);
    } else {
        jbuf_puts(b, "null");
    }
}

/* Appends '"name":', preceded by a comma unless it is the first member. */
static void
jbuf_member(struct jbuf *b, const char *name)
{
    if (b->len && b->s[b->len - 1] != '{') {
        jbuf_put(b, ",", 1);
    }
    jbuf_string(b, name);
    jbuf_put(b, ":", 1);
}

static void
jbuf_u64(struct jbuf *b, uint64_t value)
{
    jbuf_printf(b, "%"PRIu64, value);
}

/* Appends 'ms' since the epoch as an ISO-8601 UTC string with
 * milliseconds, e.g. "2024-05-01T12:00:00.250Z". */
static void
jbuf_time(struct jbuf *b, uint64_t ms)
{
    time_t secs = ms / 1000;
    char text[40];
    struct tm tm;

    if (!gmtime_r(&secs, &tm)
        || !strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm)) {
        jbuf_puts(b, "null");
        return;
    }
    jbuf_printf(b, "\"%s.%03uZ\"", text, (unsigned) (ms % 1000));
}

/* Appends 'addr' in its inet_ntop() form, or null if it has none. */
static void
jbuf_addr(struct jbuf *b, const struct vnm_addr *addr)
{
    char text[INET6_ADDRSTRLEN];
    int af = (addr->family == 4 ? AF_INET
              : addr->family == 6 ? AF_INET6 : AF_UNSPEC);

    if (af != AF_UNSPEC && inet_ntop(af, addr->a, text, sizeof text)) {
        jbuf_string(b, text);
    } else {
        jbuf_puts(b, "null");
    }
}

static void
jbuf_mac(struct jbuf *b, const uint8_t mac[6])
{
    jbuf_printf(b, "\"%02x:%02x:%02x:%02x:%02x:%02x\"",
                mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/* The JSON line. */

/* Appends the "vm" object for 'vm'.  If 'flow' shows the same attribution
 * on one of its sides, adds that side's MAC address. */
static void
jbuf_vm(struct jbuf *b, const struct vnm_attribution *vm,
        const struct vnm_flow *flow)
{
    jbuf_put(b, "{", 1);
    jbuf_member(b, "port");
    jbuf_array_string(b, vm->port, sizeof vm->port);
    jbuf_member(b, "ofport");
    if (vm->ofport >= 0) {
        jbuf_printf(b, "%"PRId32, vm->ofport);
    } else {
        jbuf_puts(b, "null");
    }
    jbuf_member(b, "iface_id");
    jbuf_array_string(b, vm->iface_id, sizeof vm->iface_id);
    jbuf_member(b, "vm");
    jbuf_array_string(b, vm->vm, sizeof vm->vm);
    jbuf_member(b, "tenant");
    jbuf_array_string(b, vm->tenant, sizeof vm->tenant);
    if (flow) {
        const struct vnm_flow_end *end
            = (!memcmp(vm, &flow->src.in, sizeof *vm) ? &flow->src
               : !memcmp(vm, &flow->dst.in, sizeof *vm) ? &flow->dst
               : NULL);

        if (end) {
            jbuf_member(b, "mac");
            jbuf_mac(b, end->mac);
        }
    }
    jbuf_put(b, "}", 1);
}

/* Appends the "flow" object for 'flow'. */
static void
jbuf_flow(struct jbuf *b, const struct vnm_flow *flow)
{
    jbuf_put(b, "{", 1);
    jbuf_member(b, "src");
    jbuf_addr(b, &flow->src.ip);
    jbuf_member(b, "dst");
    jbuf_addr(b, &flow->dst.ip);
    jbuf_member(b, "sport");
    jbuf_u64(b, flow->src.port);
    jbuf_member(b, "dport");
    jbuf_u64(b, flow->dst.port);
    jbuf_member(b, "proto");
    jbuf_u64(b, flow->ip_proto);
    jbuf_member(b, "app");
    jbuf_array_string(b, flow->app, sizeof flow->app);
    jbuf_member(b, "src_packets");
    jbuf_u64(b, flow->src.packets);
    jbuf_member(b, "src_bytes");
    jbuf_u64(b, flow->src.bytes);
    jbuf_member(b, "dst_packets");
    jbuf_u64(b, flow->dst.packets);
    jbuf_member(b, "dst_bytes");
    jbuf_u64(b, flow->dst.bytes);
    jbuf_put(b, "}", 1);
}

/* Formats 'alert' as one JSON line, newline included, into 'b'. */
static void
format_alert(struct jbuf *b, const struct vnm_alert *alert)
{
    uint32_t n_evidence = (alert->n_evidence < VNM_ALERT_MAX_EVIDENCE
                           ? alert->n_evidence : VNM_ALERT_MAX_EVIDENCE);

    b->len = 0;
    b->failed = false;
    jbuf_put(b, "{", 1);
    jbuf_member(b, "id");
    jbuf_string(b, alert->id);
    jbuf_member(b, "kind");
    jbuf_string(b, alert->kind);
    jbuf_member(b, "severity");
    jbuf_string(b, vnm_severity_name(alert->severity));
    jbuf_member(b, "detector");
    jbuf_string(b, alert->detector);
    jbuf_member(b, "host");
    jbuf_string(b, alert->host_id);
    jbuf_member(b, "tenant");
    jbuf_string(b, alert->tenant);
    jbuf_member(b, "summary");
    jbuf_string(b, alert->summary);
    jbuf_member(b, "key");
    jbuf_string(b, alert->key);
    jbuf_member(b, "target");
    jbuf_string(b, alert->target);
    jbuf_member(b, "first");
    jbuf_time(b, alert->first_ms);
    jbuf_member(b, "last");
    jbuf_time(b, alert->last_ms);
    jbuf_member(b, "count");
    jbuf_u64(b, alert->count);
    jbuf_member(b, "packets");
    jbuf_u64(b, alert->total_packets);
    jbuf_member(b, "bytes");
    jbuf_u64(b, alert->total_bytes);
    jbuf_member(b, "updates");
    jbuf_u64(b, alert->n_updates);
    jbuf_member(b, "vm");
    if (alert->vm) {
        jbuf_vm(b, alert->vm, alert->flow);
    } else {
        jbuf_puts(b, "null");
    }
    jbuf_member(b, "flow");
    if (alert->flow) {
        jbuf_flow(b, alert->flow);
    } else {
        jbuf_puts(b, "null");
    }
    jbuf_member(b, "evidence");
    jbuf_put(b, "[", 1);
    for (uint32_t i = 0; i < n_evidence; i++) {
        if (i) {
            jbuf_put(b, ",", 1);
        }
        jbuf_string(b, alert->evidence[i] ? alert->evidence[i] : "");
    }
    jbuf_puts(b, "]}\n");
}

/* The file. */

/* Opens 'j->path' into 'j->fd' and learns its size.  Returns 0 or a
 * positive errno value.  A failure is logged at 'level' the first time,
 * at debug level while it lasts; the recovery is logged. */
static int
jsonl_open(struct jsonl *j, enum vnm_log_level level)
{
    const char *what = "open for appending";
    const char *reason = NULL;
    struct stat st;
    int error;
    int fd;

    fd = open(j->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        error = errno;
        goto error;
    }
    if (fstat(fd, &st)) {
        error = errno;
        what = "stat";
        close(fd);
        goto error;
    }
    if (!S_ISREG(st.st_mode)) {
        error = EINVAL;
        reason = "not a regular file";
        close(fd);
        goto error;
    }
    if (j->broken) {
        j->host->log(j->host, VNM_LOG_INFO, "%s: reopened", j->path);
        j->broken = false;
    }
    j->fd = fd;
    j->size = st.st_size;
    return 0;

error:
    j->host->log(j->host, j->broken ? VNM_LOG_DBG : level,
                 "%s: cannot %s (%s)", j->path, what,
                 reason ? reason : strerror(error));
    j->broken = true;
    return error;
}

static void
jsonl_close(struct jsonl *j)
{
    if (j->fd >= 0) {
        close(j->fd);
        j->fd = -1;
    }
}

/* Renames the file to PATH.1 and starts a new one.  On failure, goes on
 * with the file it has. */
static void
jsonl_rotate(struct jsonl *j)
{
    if (rename(j->path, j->old_path)) {
        j->host->log(j->host, j->rotate_failed ? VNM_LOG_DBG : VNM_LOG_WARN,
                     "%s: cannot rotate to %s (%s)", j->path, j->old_path,
                     strerror(errno));
        j->host->count(j->host, "rotate_errors", 1);
        j->rotate_failed = true;
        return;
    }
    j->rotate_failed = false;
    jsonl_close(j);
    jsonl_open(j, VNM_LOG_WARN);
    j->host->count(j->host, "rotations", 1);
}

/* Plugin callbacks. */

static void
jsonl_destroy(void *state)
{
    struct jsonl *j = state;

    jsonl_close(j);
    free(j->line.s);
    free(j->old_path);
    free(j);
}

static int
jsonl_init(const struct vnm_host *host, const struct vnm_conf *conf,
           void **statep)
{
    const char *path;
    struct jsonl *j;
    int64_t max_size;
    bool use_fsync;
    int error;

    if ((error = host->conf_string(host, conf, "path", NULL, &path))
        || (error = host->conf_bool(host, conf, "fsync", false, &use_fsync))
        || (error = host->conf_int(host, conf, "max_size", 0, 0, INT64_MAX,
                                   &max_size))) {
        return error;
    }
    if (!path || !*path) {
        host->log(host, VNM_LOG_ERR, "missing required key \"path\" (the "
                  "file to append incidents to)");
        return EINVAL;
    }

    j = calloc(1, sizeof *j);
    if (!j) {
        return ENOMEM;
    }
    j->host = host;
    j->path = path;
    j->fsync = use_fsync;
    j->max_size = max_size;
    j->fd = -1;
    j->old_path = malloc(strlen(path) + sizeof ".1");
    if (!j->old_path) {
        error = ENOMEM;
        goto error;
    }
    memcpy(j->old_path, path, strlen(path));
    memcpy(j->old_path + strlen(path), ".1", sizeof ".1");

    error = jsonl_open(j, VNM_LOG_ERR);
    if (error) {
        goto error;
    }
    *statep = j;
    return 0;

error:
    jsonl_destroy(j);
    return error;
}

/* Appends 'alert' to the file.  'alert' is borrowed. */
static int
jsonl_deliver(void *state, const struct vnm_alert *alert)
{
    struct jsonl *j = state;
    ssize_t n;

    format_alert(&j->line, alert);
    if (j->line.failed) {
        j->host->count(j->host, "write_errors", 1);
        return EAGAIN;
    }
    if (j->fd >= 0 && j->max_size && j->size
        && j->size + j->line.len > j->max_size) {
        jsonl_rotate(j);
    }
    if (j->fd < 0 && jsonl_open(j, VNM_LOG_WARN)) {
        j->host->count(j->host, "write_errors", 1);
        return EAGAIN;
    }

    n = write(j->fd, j->line.s, j->line.len);
    if (n != (ssize_t) j->line.len) {
        /* Takes back a partial line, so that the retry starts afresh. */
        if (n > 0 && ftruncate(j->fd, j->size)) {
            j->host->log(j->host, VNM_LOG_WARN, "%s: cannot remove a "
                         "partly written line (%s)", j->path,
                         strerror(errno));
            j->size += n;
        }
        j->host->count(j->host, "write_errors", 1);
        return EAGAIN;
    }
    j->size += n;
    if (j->fsync && fsync(j->fd)) {
        j->host->count(j->host, "write_errors", 1);
        return EAGAIN;
    }
    j->host->count(j->host, "delivered", 1);
    return 0;
}

/* Reopens the file if it was moved or deleted, or could not be reopened
 * before, and relearns its size if someone truncated it. */
static void
jsonl_on_tick(void *state, uint64_t now_ms)
{
    struct jsonl *j = state;
    struct stat by_path, by_fd;

    if (j->fd >= 0 && !fstat(j->fd, &by_fd)) {
        if (!stat(j->path, &by_path) && by_path.st_dev == by_fd.st_dev
            && by_path.st_ino == by_fd.st_ino) {
            j->size = by_fd.st_size;
            return;
        }
        j->host->log(j->host, VNM_LOG_INFO, "%s: moved or deleted, "
                     "reopening", j->path);
    }
    jsonl_close(j);
    jsonl_open(j, VNM_LOG_WARN);
}

static const struct vnm_sink_ops jsonl_ops = {
    .deliver = jsonl_deliver,
    .on_tick = jsonl_on_tick,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_SINK, .name = "jsonl", .version = "1.0",
                  .init = jsonl_init, .destroy = jsonl_destroy,
                  .sink = &jsonl_ops);
