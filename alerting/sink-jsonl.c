/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alert sink "jsonl": appends every incident record the analyzer delivers
 * (its opening, its updates, its resolution) as one line of JSON to a local
 * file, for log shippers, audit trails and `tail -f | jq`.
 *
 * Configuration, section [sink "jsonl"] (see doc/):
 *
 *   path      file to append to; required.
 *   fsync     fsync() after every line (bool, default false).
 *   max_size  bytes; when a line would make the file bigger, the file is
 *             first rotated (PATH becomes PATH.1, PATH.1 becomes PATH.2...)
 *             and a new one started.  0, the default, means no limit.
 *   keep      rotated files kept, PATH.1 to PATH.KEEP (default 10, 1 to
 *             1000); the oldest beyond that is deleted at a rotation.
 *
 * Each line is the incident's alert record as the host built it
 * (alert->json, documented in doc/alerts.md), followed by a newline.  It
 * is written with a single write() on a file opened with O_APPEND, so a
 * reader never sees half a line.  A line that cannot be written is
 * reported to the host as EAGAIN (it spools the incident and retries
 * later) and counted as "write_errors".  An alert without a record (a host
 * older than ABI 1.1 never loads this plugin) is refused with EINVAL.  If
 * the file is moved away or deleted (logrotate), the next tick reopens
 * PATH.
 *
 * Built as sink-jsonl.so like any third-party sink: it links no host
 * symbol and exports only 'vnm_plugin'.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alerting/sink-util.h"
#include "vnmon/plugin.h"

/* The sink's state. */
struct jsonl {
    const struct vnm_host *host;
    const char *path;           /* The host's copy, valid until destroy(). */
    bool fsync;
    uint64_t max_size;          /* 0 for no limit. */
    int keep;                   /* Rotated generations kept. */
    int fd;                     /* Open on 'path', or -1 after a failed
                                 * reopen. */
    bool broken;                /* The last open failed (logged once). */
    bool rotate_failed;         /* The last rotation failed (logged once). */
    uint64_t size;              /* Bytes in the file behind 'fd'. */
    struct su_buf line;           /* Reused for every line. */
};

/* The line: the alert record and a newline, into 'b'. */
static void
format_alert(struct su_buf *b, const struct vnm_alert *alert)
{
    su_buf_clear(b);
    su_buf_puts(b, alert->json);
    su_buf_put(b, "\n", 1);
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

/* Returns "PATH.N", malloc'd, or null if out of memory. */
static char *
generation_path(const struct jsonl *j, int n)
{
    size_t size = strlen(j->path) + 16;
    char *s = malloc(size);

    if (s) {
        snprintf(s, size, "%s.%d", j->path, n);
    }
    return s;
}

/* Renames PATH.N to PATH.N+1 for N = keep - 1 down to 1 (PATH.KEEP, the
 * oldest, is replaced), then the file to PATH.1, and starts a new one.  If
 * the file itself cannot be renamed, goes on with it. */
static void
jsonl_rotate(struct jsonl *j)
{
    char *to = generation_path(j, j->keep);
    int error = to ? 0 : ENOMEM;

    for (int n = j->keep - 1; !error && n >= 1; n--) {
        char *from = generation_path(j, n);

        if (!from) {
            error = ENOMEM;
        } else if (rename(from, to) && errno != ENOENT) {
            j->host->log(j->host, VNM_LOG_WARN, "%s: cannot rotate to %s "
                         "(%s)", from, to, strerror(errno));
        }
        free(to);
        to = from;
    }
    if (!error && rename(j->path, to)) {
        error = errno;
    }
    if (error) {
        j->host->log(j->host, j->rotate_failed ? VNM_LOG_DBG : VNM_LOG_WARN,
                     "%s: cannot rotate to %s.1 (%s)", j->path, j->path,
                     strerror(error));
        j->host->count(j->host, "rotate_errors", 1);
        j->rotate_failed = true;
        free(to);
        return;
    }
    free(to);
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
    su_buf_destroy(&j->line);
    free(j);
}

static int
jsonl_init(const struct vnm_host *host, const struct vnm_conf *conf,
           void **statep)
{
    const char *path;
    struct jsonl *j;
    int64_t max_size, keep;
    bool use_fsync;
    int error;

    if ((error = host->conf_string(host, conf, "path", NULL, &path))
        || (error = host->conf_bool(host, conf, "fsync", false, &use_fsync))
        || (error = host->conf_int(host, conf, "max_size", 0, 0, INT64_MAX,
                                   &max_size))
        || (error = host->conf_int(host, conf, "keep", 10, 1, 1000,
                                   &keep))) {
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
    j->keep = keep;
    j->fd = -1;

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

    if (!alert->json) {
        return EINVAL;
    }
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
