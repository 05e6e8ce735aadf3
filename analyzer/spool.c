/* SPDX-License-Identifier: Apache-2.0 */
/* The delivery spool of one alert sink: see spool.h. */
#include <config.h>

#include "analyzer/spool.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzer/alert-record.h"
#include "lib/counter.h"
#include "lib/log.h"
#include "vnmon/alert.h"

VNM_LOG_MODULE(spool);

VNM_COUNTER_DEFINE(alerts_spooled);
VNM_COUNTER_DEFINE(alerts_redelivered);
VNM_COUNTER_DEFINE(alerts_spool_dropped);
VNM_COUNTER_DEFINE(alerts_spool_failed);

enum {
    SEQ_DIGITS = 20,            /* A file name: SEQ_DIGITS digits... */
    NAME_SIZE = SEQ_DIGITS + sizeof ".json.tmp", /* ...".json", ".tmp". */
    MAX_RECORD = 1 << 20,       /* A bigger file is not a record. */
    RESCAN_MS = 5000,           /* An idle spool looks for files put back
                                 * by the operator this often. */
};

struct spool {
    char *dir;                  /* DIR/NAME. */
    int dir_fd;                 /* Open on 'dir', flock()ed: one process
                                 * per spool. */
    spool_deliver_func *deliver;
    void *state;                /* For 'deliver'. */
    uint64_t max;               /* See struct spool_options. */
    uint64_t retry_min_ms;
    uint64_t retry_max_ms;

    /* Pending deliveries, oldest first: 'seqs[head]' to 'seqs[n - 1]'. */
    uint64_t *seqs;
    size_t head, n, allocated;
    uint64_t next_seq;          /* For the next file. */
    uint64_t backoff_ms;        /* The delay after the next failure. */
    uint64_t next_retry_ms;     /* Monotonic time of the next retry. */
    uint64_t next_scan_ms;      /* Of the next look for files put back. */
    bool outage;                /* Spooling since the last empty backlog
                                 * (logged when it starts and ends). */
};

/* Creates directory 'path' and its missing parents with 'mode'.  Returns 0
 * or an errno value. */
static int
mkdir_p(const char *path, mode_t mode)
{
    char *p = xstrdup(path);
    int error = 0;

    for (char *s = p + 1; !error; s++) {
        char c = *s;

        if (c == '/' || !c) {
            *s = '\0';
            if (mkdir(p, mode) && errno != EEXIST) {
                error = errno;
            }
            *s = c;
            if (!c) {
                break;
            }
        }
    }
    free(p);
    return error;
}

/* Returns sink name 'name' as a file name: bytes other than [A-Za-z0-9_-]
 * and '.' (but a leading one) as %XX.  Malloc'd. */
static char *
escape_name(const char *name)
{
    char *out = xmalloc(3 * strlen(name) + 1);
    char *p = out;

    for (const char *q = name; *q; q++) {
        unsigned char c = *q;

        if (isalnum(c) || c == '-' || c == '_' || (c == '.' && q != name)) {
            *p++ = c;
        } else {
            p += snprintf(p, 4, "%%%02X", c);
        }
    }
    *p = '\0';
    return out;
}

/* Writes the file name of delivery 'seq' to 'name'. */
static void
seq_name(uint64_t seq, char name[NAME_SIZE])
{
    snprintf(name, NAME_SIZE, "%0*"PRIu64".json", SEQ_DIGITS, seq);
}

/* True if 'name' is a delivery's file name; then stores its number. */
static bool
seq_parse(const char *name, uint64_t *seqp)
{
    if (strlen(name) != SEQ_DIGITS + 5 || strcmp(name + SEQ_DIGITS, ".json")
        || strspn(name, "0123456789") != SEQ_DIGITS) {
        return false;
    }
    *seqp = strtoull(name, NULL, 10);
    return true;
}

static int
seq_compare(const void *a_, const void *b_)
{
    uint64_t a = *(const uint64_t *) a_, b = *(const uint64_t *) b_;

    return a < b ? -1 : a > b;
}

/* Appends 'seq' to the pending deliveries. */
static void
queue_push(struct spool *spool, uint64_t seq)
{
    if (spool->n == spool->allocated) {
        if (spool->head && spool->head >= spool->allocated / 2) {
            spool->n -= spool->head;
            memmove(spool->seqs, spool->seqs + spool->head,
                    spool->n * sizeof *spool->seqs);
            spool->head = 0;
        } else {
            spool->allocated = spool->allocated ? 2 * spool->allocated : 64;
            spool->seqs = xrealloc(spool->seqs,
                                   spool->allocated * sizeof *spool->seqs);
        }
    }
    spool->seqs[spool->n++] = seq;
}

/* Removes the oldest pending delivery from the queue. */
static void
queue_pop(struct spool *spool)
{
    if (++spool->head == spool->n) {
        spool->head = spool->n = 0;
    }
}

/* Adds the deliveries found in directory 'dir' to the queue, or only
 * raises 'next_seq' past them if 'queue' is false; removes the temporary
 * files of an interrupted write.  Returns 0 or an errno value. */
static int
scan_dir(struct spool *spool, const char *dir, bool queue)
{
    struct dirent *de;
    DIR *d = opendir(dir);

    if (!d) {
        return errno;
    }
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        uint64_t seq;

        if (seq_parse(de->d_name, &seq)) {
            if (queue) {
                queue_push(spool, seq);
            }
            if (seq >= spool->next_seq) {
                spool->next_seq = seq + 1;
            }
        } else if (queue && len > 4 && !strcmp(de->d_name + len - 4, ".tmp")) {
            unlinkat(spool->dir_fd, de->d_name, 0);
        }
    }
    closedir(d);
    return 0;
}

char *
spool_create(const struct spool_options *opts, const char *name,
             spool_deliver_func *deliver, void *state, struct spool **spoolp)
{
    struct spool *spool = xzalloc(sizeof *spool);
    char *escaped = escape_name(name);
    char *failed;
    int error;

    *spoolp = NULL;
    spool->dir = xasprintf("%s/%s", opts->dir, escaped);
    free(escaped);
    spool->dir_fd = -1;
    spool->deliver = deliver;
    spool->state = state;
    spool->max = opts->max ? opts->max : 1;
    spool->retry_min_ms = opts->retry_min_ms;
    spool->retry_max_ms = (opts->retry_max_ms > opts->retry_min_ms
                           ? opts->retry_max_ms : opts->retry_min_ms);
    spool->backoff_ms = spool->retry_min_ms;
    spool->next_seq = 1;

    error = mkdir_p(spool->dir, 0750);
    if (!error) {
        spool->dir_fd = open(spool->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        error = spool->dir_fd < 0 ? errno : 0;
    }
    if (!error && flock(spool->dir_fd, LOCK_EX | LOCK_NB)) {
        char *msg = (errno == EWOULDBLOCK
                     ? xasprintf("spool %s: in use by another process (two "
                                 "analyzers cannot share a spool: give each "
                                 "its own [analyzer] spool)", spool->dir)
                     : xasprintf("spool %s: cannot lock directory (%s)",
                                 spool->dir, strerror(errno)));

        spool_destroy(spool);
        return msg;
    }
    if (!error) {
        error = scan_dir(spool, spool->dir, true);
    }
    if (error) {
        char *msg = xasprintf("spool %s: cannot open directory (%s)",
                              spool->dir, strerror(error));

        spool_destroy(spool);
        return msg;
    }
    failed = xasprintf("%s/failed", spool->dir);
    scan_dir(spool, failed, false);     /* Absent is fine. */
    free(failed);
    if (spool->n) {
        qsort(spool->seqs, spool->n, sizeof *spool->seqs, seq_compare);
        VNM_INFO("spool %s: %zu deliveries pending from a previous run",
                 spool->dir, spool->n);
        spool->outage = true;
    }
    *spoolp = spool;
    return NULL;
}

void
spool_destroy(struct spool *spool)
{
    if (!spool) {
        return;
    }
    if (spool->dir_fd >= 0) {
        close(spool->dir_fd);
    }
    free(spool->seqs);
    free(spool->dir);
    free(spool);
}

/* Writes 'record' and a newline as a new delivery file: a temporary file,
 * fsync'd, renamed, the directory fsync'd.  Returns 0 or an errno value. */
static int
write_file(struct spool *spool, uint64_t seq, const char *record)
{
    char name[NAME_SIZE], tmp[NAME_SIZE];
    size_t len = strlen(record);
    char *line = xmalloc(len + 1);
    size_t done = 0;
    int error = 0;
    int fd;

    seq_name(seq, name);
    snprintf(tmp, sizeof tmp, "%0*"PRIu64".json.tmp", SEQ_DIGITS, seq);
    memcpy(line, record, len);
    line[len++] = '\n';
    fd = openat(spool->dir_fd, tmp,
                O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        free(line);
        return errno;
    }
    while (done < len && !error) {
        ssize_t n = write(fd, line + done, len - done);

        if (n > 0) {
            done += n;
        } else if (n < 0 && errno != EINTR) {
            error = errno;
        }
    }
    free(line);
    if ((!error && fsync(fd)) || (close(fd) && !error)) {
        error = errno;
    }
    if (!error && (renameat(spool->dir_fd, tmp, spool->dir_fd, name)
                   || fsync(spool->dir_fd))) {
        error = errno;
    }
    if (error) {
        unlinkat(spool->dir_fd, tmp, 0);
    }
    return error;
}

/* Spools 'alert': drops the oldest delivery if the spool is full, writes
 * the file and queues it.  Returns 0 or an errno value (logged). */
static int
append(struct spool *spool, const struct vnm_alert *alert)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(6, 3);
    static struct vnm_rate_limit drop_rl = VNM_RATE_LIMIT_INIT(6, 3);
    int error;

    if (spool->n - spool->head >= spool->max) {
        char name[NAME_SIZE];

        seq_name(spool->seqs[spool->head], name);
        unlinkat(spool->dir_fd, name, 0);
        queue_pop(spool);
        VNM_COUNTER_INC(alerts_spool_dropped);
        VNM_WARN_RL(&drop_rl, "spool %s: full (%"PRIu64" deliveries), "
                    "dropped the oldest, %s", spool->dir, spool->max, name);
    }
    error = write_file(spool, spool->next_seq, alert->json);
    if (error) {
        VNM_WARN_RL(&rl, "spool %s: cannot spool incident %s (%s)",
                    spool->dir, alert->id ? alert->id : "?",
                    strerror(error));
        return error;
    }
    queue_push(spool, spool->next_seq++);
    VNM_COUNTER_INC(alerts_spooled);
    return 0;
}

/* Schedules the next retry after a failure at 'now_ms'. */
static void
backoff(struct spool *spool, uint64_t now_ms)
{
    spool->next_retry_ms = now_ms + spool->backoff_ms;
    spool->backoff_ms = (spool->backoff_ms * 2 < spool->retry_max_ms
                         ? spool->backoff_ms * 2 : spool->retry_max_ms);
}

int
spool_submit(struct spool *spool, const struct vnm_alert *alert,
             uint64_t now_ms)
{
    int error;

    if (spool->n > spool->head) {
        /* A backlog: after it, in order, and without waiting on a receiver
         * that is probably down. */
        error = append(spool, alert);
        return error ? error : EAGAIN;
    }
    error = spool->deliver(spool->state, alert);
    if (!error) {
        spool->backoff_ms = spool->retry_min_ms;
    } else if (error == EAGAIN) {
        int error2 = append(spool, alert);

        if (!spool->outage) {
            VNM_WARN("spool %s: the sink cannot deliver now (receiver "
                     "down?): spooling, retried with backoff", spool->dir);
            spool->outage = true;
        }
        backoff(spool, now_ms);
        return error2 ? error2 : EAGAIN;
    }
    return error;
}

/* Reads delivery file 'name' into '*textp' (malloc'd, without its
 * newline).  Returns 0 or an errno value (EFBIG for a file too big to be a
 * record). */
static int
read_file(const struct spool *spool, const char *name, char **textp)
{
    int fd = openat(spool->dir_fd, name, O_RDONLY | O_CLOEXEC);
    struct stat st;
    size_t done = 0;
    char *text;
    int error = 0;

    if (fd < 0) {
        return errno;
    }
    if (fstat(fd, &st)) {
        error = errno;
        close(fd);
        return error;
    }
    if (st.st_size > MAX_RECORD) {
        close(fd);
        return EFBIG;
    }
    text = xmalloc(st.st_size + 1);
    while (done < (size_t) st.st_size && !error) {
        ssize_t n = read(fd, text + done, st.st_size - done);

        if (n > 0) {
            done += n;
        } else if (n == 0) {
            break;
        } else if (errno != EINTR) {
            error = errno;
        }
    }
    close(fd);
    if (error) {
        free(text);
        return error;
    }
    while (done && text[done - 1] == '\n') {
        done--;
    }
    text[done] = '\0';
    *textp = text;
    return 0;
}

/* Moves delivery file 'name' to the spool's failed/ directory, for the
 * operator, because of 'why'. */
static void
move_failed(struct spool *spool, const char *name, const char *why)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(6, 3);
    char failed[NAME_SIZE + sizeof "failed/"];

    snprintf(failed, sizeof failed, "failed/%s", name);
    VNM_COUNTER_INC(alerts_spool_failed);
    if ((mkdirat(spool->dir_fd, "failed", 0750) && errno != EEXIST)
        || renameat(spool->dir_fd, name, spool->dir_fd, failed)
        || fsync(spool->dir_fd)) {
        VNM_WARN_RL(&rl, "spool %s: %s: %s; cannot move it to failed/ (%s)",
                    spool->dir, name, why, strerror(errno));
    } else {
        VNM_WARN_RL(&rl, "spool %s: %s: %s; moved to failed/", spool->dir,
                    name, why);
    }
}

/* Delivers the oldest spooled delivery.  Returns 0 or an errno value
 * (EAGAIN: try again later). */
static int
retry_one(struct spool *spool)
{
    struct alert_record_view view;
    char name[NAME_SIZE];
    char *text = NULL;
    int error;

    seq_name(spool->seqs[spool->head], name);
    error = read_file(spool, name, &text);
    if (error == ENOENT) {
        return 0;               /* Removed by the operator. */
    } else if (error) {
        move_failed(spool, name, strerror(error));
        return error;
    }
    if (alert_record_parse(text, &view)) {
        move_failed(spool, name, "not an alert record");
        free(text);
        return EINVAL;
    }
    error = spool->deliver(spool->state, &view.alert);
    if (!error) {
        unlinkat(spool->dir_fd, name, 0);
        VNM_COUNTER_INC(alerts_redelivered);
    } else if (error != EAGAIN) {
        move_failed(spool, name, strerror(error));
    }
    alert_record_view_uninit(&view);
    free(text);
    return error;
}

/* With no backlog, every file in the directory is one the operator put
 * back (from failed/, say): queues them, oldest first, due at once. */
static void
rescan(struct spool *spool, uint64_t now_ms)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(6, 3);
    int error;

    spool->next_scan_ms = now_ms + RESCAN_MS;
    error = scan_dir(spool, spool->dir, true);
    if (error) {
        VNM_WARN_RL(&rl, "spool %s: cannot read the directory (%s)",
                    spool->dir, strerror(error));
    } else if (spool->n) {
        qsort(spool->seqs, spool->n, sizeof *spool->seqs, seq_compare);
        VNM_INFO("spool %s: %zu deliveries put back in the spool, "
                 "delivering them", spool->dir, spool->n);
        spool->outage = true;
        spool->next_retry_ms = now_ms;
        spool->backoff_ms = spool->retry_min_ms;
    }
}

void
spool_run(struct spool *spool, uint64_t now_ms, uint64_t budget_ms)
{
    uint64_t start = vnm_time_mono_ms();

    if (spool->n == spool->head && now_ms >= spool->next_scan_ms) {
        rescan(spool, now_ms);
    }

    for (size_t n = 0; spool->n > spool->head
                       && now_ms >= spool->next_retry_ms; n++) {
        if (n && vnm_time_mono_ms() - start >= budget_ms) {
            break;
        }
        int error = retry_one(spool);

        if (error == EAGAIN) {
            backoff(spool, now_ms);
            break;
        } else if (!error) {
            spool->backoff_ms = spool->retry_min_ms;
        }
        queue_pop(spool);
    }
    if (spool->outage && spool->n == spool->head) {
        VNM_INFO("spool %s: every spooled delivery done, delivering "
                 "directly again", spool->dir);
        spool->outage = false;
    }
}

size_t
spool_pending(const struct spool *spool)
{
    return spool->n - spool->head;
}

uint64_t
spool_next_retry(const struct spool *spool)
{
    return spool->next_retry_ms;
}

const char *
spool_dir(const struct spool *spool)
{
    return spool->dir;
}
