/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging with per-module levels and rate limits, to stderr, syslog or a
 * file.
 *
 * Each .c file that logs declares its module once:
 *
 *     VNM_LOG_MODULE(flow_table);
 *
 * and then logs with VNM_ERR(), VNM_WARN(), VNM_INFO(), VNM_DBG().  Paths that
 * run per packet, per flow or per alert use the rate-limited forms with a
 * static limiter:
 *
 *     static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(5, 10);
 *     VNM_WARN_RL(&rl, "port %s: ring overflow", name);
 *
 * A line looks like "2026-11-21T09:14:14.123Z|agent|WARN|redis|message"
 * (time in UTC, daemon, level, module, message) on stderr and in files;
 * syslog gets "module: message" at the matching priority.  Thread-safe.
 */
#ifndef VNM_LOG_H
#define VNM_LOG_H 1

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/util.h"
#include "vnmon/plugin.h"       /* enum vnm_log_level. */

/* A logging module: a name and its own level. */
struct vnm_log_module {
    const char *name;           /* [a-z0-9_-]+, static storage. */
    int level;                  /* Messages above this are dropped. */
    struct vnm_log_module *next; /* In the list of all modules. */
};

/* Declares this file's logging module 'NAME' (an identifier). */
#define VNM_LOG_MODULE(NAME)                                            \
    static struct vnm_log_module vnm_this_log_module = {                \
        #NAME, VNM_LOG_INFO, 0 };                                       \
    static void vnm_log_init_##NAME(void) __attribute__((constructor)); \
    static void vnm_log_init_##NAME(void)                               \
    {                                                                   \
        vnm_log_register(&vnm_this_log_module);                         \
    }

#define VNM_LOG_AT(LEVEL, ...)                                          \
    (vnm_this_log_module.level >= (LEVEL)                               \
     ? vnm_log_msg(&vnm_this_log_module, LEVEL, __VA_ARGS__)            \
     : (void) 0)
#define VNM_ERR(...) VNM_LOG_AT(VNM_LOG_ERR, __VA_ARGS__)
#define VNM_WARN(...) VNM_LOG_AT(VNM_LOG_WARN, __VA_ARGS__)
#define VNM_INFO(...) VNM_LOG_AT(VNM_LOG_INFO, __VA_ARGS__)
#define VNM_DBG(...) VNM_LOG_AT(VNM_LOG_DBG, __VA_ARGS__)

/* A token bucket: at most 'burst' messages at once, refilled at
 * 'per_minute' messages per minute.  Initialise with
 * VNM_RATE_LIMIT_INIT(). */
struct vnm_rate_limit {
    uint32_t per_minute;        /* Refill rate. */
    uint32_t burst;             /* Bucket size. */
    uint64_t tokens;            /* In 1/60000ths of a message. */
    uint64_t last_ms;           /* Monotonic time of the last refill. */
    uint64_t n_suppressed;      /* Dropped since the last one let through. */
    pthread_mutex_t mutex;
};

#define VNM_RATE_LIMIT_INIT(PER_MINUTE, BURST)                          \
    { (PER_MINUTE), (BURST), (uint64_t) (BURST) * 60000, 0, 0,          \
      PTHREAD_MUTEX_INITIALIZER }

#define VNM_LOG_RL_AT(RL, LEVEL, ...)                                   \
    (vnm_this_log_module.level >= (LEVEL)                               \
     ? vnm_log_msg_rl(&vnm_this_log_module, RL, LEVEL, __VA_ARGS__)     \
     : (void) 0)
#define VNM_ERR_RL(RL, ...) VNM_LOG_RL_AT(RL, VNM_LOG_ERR, __VA_ARGS__)
#define VNM_WARN_RL(RL, ...) VNM_LOG_RL_AT(RL, VNM_LOG_WARN, __VA_ARGS__)
#define VNM_INFO_RL(RL, ...) VNM_LOG_RL_AT(RL, VNM_LOG_INFO, __VA_ARGS__)
#define VNM_DBG_RL(RL, ...) VNM_LOG_RL_AT(RL, VNM_LOG_DBG, __VA_ARGS__)

/* Adds 'module' to the list of modules (called by VNM_LOG_MODULE()). */
void vnm_log_register(struct vnm_log_module *module);

/* Returns a new module named 'name' (copied), registered, or the existing
 * one of that name.  For plugins, whose name is known only at run time. */
struct vnm_log_module *vnm_log_module_get(const char *name);

/* Logs one message (no trailing newline) for 'module' at 'level'. */
void vnm_log_msg(struct vnm_log_module *module, enum vnm_log_level level,
                 const char *format, ...) VNM_PRINTF(3, 4);
void vnm_log_msg_valist(struct vnm_log_module *module,
                        enum vnm_log_level level, const char *format,
                        va_list args) VNM_PRINTF(3, 0);
/* Same as vnm_log_msg() if 'rl' lets it through, else counts it. */
void vnm_log_msg_rl(struct vnm_log_module *module, struct vnm_rate_limit *rl,
                    enum vnm_log_level level, const char *format, ...)
    VNM_PRINTF(4, 5);

/* True if 'rl' lets one more event through now (and takes a token). */
bool vnm_rate_limit_allow(struct vnm_rate_limit *rl);

/* Sends logs to 'target': "stderr", "syslog", or a file path (appended to).
 * 'daemon' names the daemon in each line.  Returns 0 or an errno value. */
int vnm_log_open(const char *target, const char *daemon);
/* Reopens the log file (after rotation; on SIGHUP).  Returns 0 or an errno
 * value. */
int vnm_log_reopen(void);
/* Closes the log file or syslog, back to stderr. */
void vnm_log_close(void);

/* Sets levels from 'spec': a comma-separated list of "LEVEL" (all modules)
 * or "MODULE:LEVEL" items, LEVEL one of err, warn, info, dbg (or debug).
 * Items apply in order.  Returns NULL, or a malloc'd error message. */
char *vnm_log_set_levels(const char *spec) VNM_WARN_UNUSED;

/* Parses a level name.  Returns the level, or -1. */
int vnm_log_level_from_string(const char *name);
/* "ERR", "WARN", "INFO" or "DBG". */
const char *vnm_log_level_to_string(enum vnm_log_level level);

/* Messages logged at 'level' (ERR or WARN) since start, for status. */
uint64_t vnm_log_count(enum vnm_log_level level);

#endif /* log.h */
