/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The delivery spool: at-least-once delivery of incident records to one
 * alert sink, through files on disk (doc/alerting.md, "Delivery
 * guarantees: the spool").
 *
 * Each sink instance has a spool, the directory DIR/NAME (NAME escaped to a
 * safe file name) holding one file per pending delivery, named by a 20-digit
 * sequence number + ".json" and holding the alert record and a newline.  A
 * file is written under a temporary name, fsync'd, renamed and the
 * directory fsync'd before spool_submit() returns.  Files are retried
 * oldest first from spool_run(), with a backoff that doubles from
 * 'retry_min_ms' to 'retry_max_ms'; a record the sink refuses for good, or
 * that cannot be parsed, is moved to DIR/NAME/failed/ for the operator.
 * spool_create() picks up the files a previous run left (a restart, or a
 * SIGKILL), so that nothing spooled is lost; a record is re-sent as it is,
 * so a duplicate carries the same incident id.  While it has no backlog,
 * spool_run() looks again every few seconds for files the operator put
 * back (moved from failed/, say) and delivers them.  The directory is
 * locked (flock) while the spool is open: a second process that opens the
 * same spool gets an error, not a share of the deliveries.
 *
 * vnmon-analyzer.c creates one spool per sink after routing
 * (analyzer/route.h); records are read back with alert_record_parse()
 * (analyzer/alert-record.h).  Counters: alerts_spooled, alerts_redelivered,
 * alerts_spool_dropped, alerts_spool_failed.  Not thread-safe: one thread
 * (the analyzer's loop) per spool.
 */
#ifndef VNM_SPOOL_H
#define VNM_SPOOL_H 1

#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

struct vnm_alert;

/* Settings shared by the spools of one analyzer ([analyzer] spool,
 * spool_max, retry_min, retry_max). */
struct spool_options {
    const char *dir;            /* Base directory, created 0750 with its
                                 * parents. */
    uint64_t max;               /* Pending deliveries kept per sink; beyond,
                                 * the oldest is dropped. */
    uint64_t retry_min_ms;      /* First retry delay... */
    uint64_t retry_max_ms;      /* ...doubled up to this. */
};

/* A sink's delivery: a 'struct vnm_sink_ops' deliver() (vnmon/plugin.h). */
typedef int spool_deliver_func(void *state, const struct vnm_alert *alert);

struct spool;

/* Opens (creating it if needed) the spool of sink 'name' under 'opts->dir'
 * and loads the deliveries found there, due at once.  Deliveries go to
 * 'deliver'('state', ...).  Stores the spool in '*spoolp' and returns NULL,
 * or returns a malloc'd error naming the directory. */
char *spool_create(const struct spool_options *opts, const char *name,
                   spool_deliver_func *deliver, void *state,
                   struct spool **spoolp) VNM_WARN_UNUSED;
/* Closes 'spool'; its files stay for the next run.  Accepts null. */
void spool_destroy(struct spool *spool);

/* Delivers 'alert' (whose 'json' must be set) at monotonic time 'now_ms':
 * with a backlog, appends it to the spool without calling deliver();
 * otherwise calls deliver() and spools the alert if that gives EAGAIN.
 * Returns 0 if delivered, EAGAIN if spooled, or the deliver() error that is
 * not EAGAIN (not spooled), or the errno value of a failed spool write
 * (logged). */
int spool_submit(struct spool *spool, const struct vnm_alert *alert,
                 uint64_t now_ms);

/* Retries the spooled deliveries, oldest first, if their time has come at
 * monotonic time 'now_ms', for about 'budget_ms' of work at most.  Without
 * a backlog, looks for files put back in the directory, at most every 5 s
 * of 'now_ms'. */
void spool_run(struct spool *spool, uint64_t now_ms, uint64_t budget_ms);

/* The number of deliveries pending in 'spool'. */
size_t spool_pending(const struct spool *spool);
/* The monotonic time of the next retry (0: at once), when there are
 * pending deliveries. */
uint64_t spool_next_retry(const struct spool *spool);
/* The spool's directory (DIR/NAME). */
const char *spool_dir(const struct spool *spool);

#endif /* spool.h */
