/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging: see log.h.  One mutex serialises output and the module list; rate
 * limiters have their own.
 */
#include <config.h>

#include "lib/log.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

enum log_target {
    TARGET_STDERR,
    TARGET_SYSLOG,
    TARGET_FILE,
};

static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct vnm_log_module *modules;
static int default_level = VNM_LOG_INFO;
static enum log_target target = TARGET_STDERR;
static char *file_name;
static int file_fd = -1;
static char daemon_name[32] = "vnmon";
static atomic_uint_least64_t n_err;
static atomic_uint_least64_t n_warn;

void
vnm_log_register(struct vnm_log_module *module)
{
    pthread_mutex_lock(&log_mutex);
    module->level = default_level;
    module->next = modules;
    modules = module;
    pthread_mutex_unlock(&log_mutex);
}

struct vnm_log_module *
vnm_log_module_get(const char *name)
{
    struct vnm_log_module *m;

    pthread_mutex_lock(&log_mutex);
    for (m = modules; m; m = m->next) {
        if (!strcmp(m->name, name)) {
            pthread_mutex_unlock(&log_mutex);
            return m;
        }
    }
    pthread_mutex_unlock(&log_mutex);

    /* Never freed: modules live as long as the process. */
    m = xzalloc(sizeof *m);
    m->name = xstrdup(name);
    vnm_log_register(m);
    return m;
}

int
vnm_log_level_from_string(const char *name)
{
    if (!strcasecmp(name, "err") || !strcasecmp(name, "error")) {
        return VNM_LOG_ERR;
    } else if (!strcasecmp(name, "warn") || !strcasecmp(name, "warning")) {
        return VNM_LOG_WARN;
    } else if (!strcasecmp(name, "info")) {
        return VNM_LOG_INFO;
    } else if (!strcasecmp(name, "dbg") || !strcasecmp(name, "debug")) {
        return VNM_LOG_DBG;
    }
    return -1;
}

const char *
vnm_log_level_to_string(enum vnm_log_level level)
{
    switch (level) {
    case VNM_LOG_ERR: return "ERR";
    case VNM_LOG_WARN: return "WARN";
    case VNM_LOG_INFO: return "INFO";
    case VNM_LOG_DBG: return "DBG";
    }
    return "?";
}

char *
vnm_log_set_levels(const char *spec)
{
    char *copy = xstrdup(spec);
    char *save = NULL;
    char *error = NULL;
    char *item;

    pthread_mutex_lock(&log_mutex);
    for (item = strtok_r(copy, ", \t", &save); item;
         item = strtok_r(NULL, ", \t", &save)) {
        char *colon = strchr(item, ':');
        const char *level_name = colon ? colon + 1 : item;
        int level = vnm_log_level_from_string(level_name);
        struct vnm_log_module *m;

        if (level < 0) {
            error = xasprintf("\"%s\": unknown log level (use err, warn, "
                              "info or dbg)", level_name);
            break;
        }
        if (!colon) {
            default_level = level;
            for (m = modules; m; m = m->next) {
                m->level = level;
            }
            continue;
        }
        *colon = '\0';
        for (m = modules; m; m = m->next) {
            if (!strcmp(m->name, item)) {
                break;
            }
        }
        if (!m) {
            error = xasprintf("\"%s\": unknown log module", item);
            break;
        }
        m->level = level;
    }
    pthread_mutex_unlock(&log_mutex);
    free(copy);
    return error;
}

static int
open_file(const char *name)
{
    int fd = open(name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

    return fd < 0 ? -errno : fd;
}

int
vnm_log_open(const char *target_name, const char *daemon)
{
    int error = 0;

    pthread_mutex_lock(&log_mutex);
    vnm_strlcpy(daemon_name, daemon, sizeof daemon_name);
    if (!strcmp(target_name, "stderr")) {
        target = TARGET_STDERR;
    } else if (!strcmp(target_name, "syslog")) {
        openlog(daemon_name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
        target = TARGET_SYSLOG;
    } else {
        int fd = open_file(target_name);

        if (fd < 0) {
            error = -fd;
        } else {
            if (file_fd >= 0) {
                close(file_fd);
            }
            file_fd = fd;
            free(file_name);
            file_name = xstrdup(target_name);
            target = TARGET_FILE;
        }
    }
    pthread_mutex_unlock(&log_mutex);
    return error;
}

int
vnm_log_reopen(void)
{
    int error = 0;

    pthread_mutex_lock(&log_mutex);
    if (target == TARGET_FILE) {
        int fd = open_file(file_name);

        if (fd < 0) {
            error = -fd;    /* Keep writing to the old file. */
        } else {
            close(file_fd);
            file_fd = fd;
        }
    }
    pthread_mutex_unlock(&log_mutex);
    return error;
}

void
vnm_log_close(void)
{
    pthread_mutex_lock(&log_mutex);
    if (target == TARGET_SYSLOG) {
        closelog();
    }
    if (file_fd >= 0) {
        close(file_fd);
        file_fd = -1;
    }
    free(file_name);
    file_name = NULL;
    target = TARGET_STDERR;
    pthread_mutex_unlock(&log_mutex);
}

uint64_t
vnm_log_count(enum vnm_log_level level)
{
    return (level == VNM_LOG_ERR ? atomic_load(&n_err)
            : level == VNM_LOG_WARN ? atomic_load(&n_warn) : 0);
}

static void
write_all(int fd, const char *buf, size_t size)
{
    while (size > 0) {
        ssize_t n = write(fd, buf, size);

        if (n < 0 && errno == EINTR) {
            continue;
        } else if (n <= 0) {
            return;             /* Nowhere left to report it. */
        }
        buf += n;
        size -= (size_t) n;
    }
}

void
vnm_log_msg_valist(struct vnm_log_module *module, enum vnm_log_level level,
                   const char *format, va_list args)
{
    char msg[2048];
    char line[2200];
    char stamp[32];
    int n;

    if (level == VNM_LOG_ERR) {
        atomic_fetch_add(&n_err, 1);
    } else if (level == VNM_LOG_WARN) {
        atomic_fetch_add(&n_warn, 1);
    }
    vsnprintf(msg, sizeof msg, format, args);

    pthread_mutex_lock(&log_mutex);
    if (target == TARGET_SYSLOG) {
        syslog((int) level, "%s: %s", module->name, msg);
    } else {
        vnm_format_time(vnm_time_wall_ms(), stamp, sizeof stamp);
        n = snprintf(line, sizeof line, "%s|%s|%s|%s|%s\n", stamp,
                     daemon_name, vnm_log_level_to_string(level),
                     module->name, msg);
        if (n >= (int) sizeof line) {
            n = sizeof line - 1;
            line[n - 1] = '\n';
        }
        write_all(target == TARGET_FILE ? file_fd : STDERR_FILENO, line,
                  (size_t) n);
    }
    pthread_mutex_unlock(&log_mutex);
}

void
vnm_log_msg(struct vnm_log_module *module, enum vnm_log_level level,
            const char *format, ...)
{
    va_list args;

    va_start(args, format);
    vnm_log_msg_valist(module, level, format, args);
    va_end(args);
}

bool
vnm_rate_limit_allow(struct vnm_rate_limit *rl)
{
    uint64_t now = vnm_time_mono_ms();
    uint64_t max = (uint64_t) rl->burst * 60000;
    bool allow;

    pthread_mutex_lock(&rl->mutex);
    if (rl->last_ms) {
        uint64_t refill = (now - rl->last_ms) * rl->per_minute;

        rl->tokens = rl->tokens + refill > max ? max : rl->tokens + refill;
    }
    rl->last_ms = now;
    allow = rl->tokens >= 60000;
    if (allow) {
        rl->tokens -= 60000;
    }
    pthread_mutex_unlock(&rl->mutex);
    return allow;
}

void
vnm_log_msg_rl(struct vnm_log_module *module, struct vnm_rate_limit *rl,
               enum vnm_log_level level, const char *format, ...)
{
    uint64_t suppressed;
    va_list args;

    if (!vnm_rate_limit_allow(rl)) {
        pthread_mutex_lock(&rl->mutex);
        rl->n_suppressed++;
        pthread_mutex_unlock(&rl->mutex);
        return;
    }
    pthread_mutex_lock(&rl->mutex);
    suppressed = rl->n_suppressed;
    rl->n_suppressed = 0;
    pthread_mutex_unlock(&rl->mutex);

    va_start(args, format);
    vnm_log_msg_valist(module, level, format, args);
    va_end(args);
    if (suppressed) {
        vnm_log_msg(module, level, "(%"PRIu64" similar message(s) "
                    "suppressed)", suppressed);
    }
}
