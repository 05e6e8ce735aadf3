/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alert sink "syslog": sends every incident record the analyzer delivers
 * (its opening, its updates, its resolution) as one RFC 5424 syslog
 * message, to the local syslog daemon (/dev/log) or to a collector over
 * UDP, for SIEMs and central log servers.
 *
 * Configuration, section [sink "syslog"] (see doc/alerting.md):
 *
 *   address       "unix:PATH" (a datagram socket, default "unix:/dev/log")
 *                 or "udp:HOST:PORT" (HOST a name, an IPv4 address or an
 *                 IPv6 address in brackets).
 *   facility      kern, user, mail, daemon, auth, syslog, lpr, news, uucp,
 *                 cron, authpriv, ftp, local0 ... local7; default local0.
 *   app_name      APP-NAME of the messages, default "vnmon".
 *   timeout       the longest a delivery may block (default 5s).
 *
 * Each message is
 *
 *   <PRI>1 LAST_SEEN HOSTNAME APP-NAME PID STATE [vnmon@32473 id=".."
 *   type=".." severity=".." state=".." tenant=".." vm=".." port=".."
 *   host=".." count=".."] SUMMARY
 *
 * with PRI from the facility and the incident's severity (critical: crit,
 * high: err, medium: warning, low: notice, info: info), LAST_SEEN the
 * incident's latest emission in UTC with milliseconds, STATE (the MSGID)
 * "open", "update" or "resolved", and parameters that are unknown left
 * out.  The message is sent as one datagram on a connected socket, at most
 * SYSLOG_MAX bytes (a longer summary is cut).  A datagram that cannot be
 * sent (no listener on the socket, ICMP port unreachable reported for an
 * earlier one, a full queue for longer than 'timeout') is reported to the
 * host as EAGAIN, which spools the incident and retries later.  UDP gives
 * no acknowledgement: a datagram the network loses is lost.
 *
 * Built as sink-syslog.so like any third-party sink: it links no host
 * symbol and exports only 'vnm_plugin'.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "alerting/sink-util.h"
#include "vnmon/plugin.h"

/* The largest datagram sent. */
#define SYSLOG_MAX 8192

/* IANA private enterprise number used for the SD-ID. */
#define SYSLOG_SD_ID "vnmon@32473"

/* The sink's state. */
struct syslog_sink {
    const struct vnm_host *host;
    const char *address;        /* The host's copy, valid until destroy(). */
    struct sockaddr_storage sa; /* Where to send. */
    socklen_t sa_len;
    int facility;               /* 0..23. */
    const char *app_name;
    char hostname[256];
    long pid;
    int64_t timeout_ms;


    int fd;                     /* Connected socket, or -1. */
    bool broken;                /* The last send failed (logged once). */
    char msg[SYSLOG_MAX];
};

static const char *const facilities[] = {
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
    "uucp", "cron", "authpriv", "ftp", NULL, NULL, NULL, NULL,
    "local0", "local1", "local2", "local3", "local4", "local5", "local6",
    "local7",
};

/* The message. */

/* Appends to 'buf' (of 'size' bytes, 'len' used) with printf format.
 * Returns the new length, at most size - 1. */
static size_t
put(char *buf, size_t size, size_t len, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static size_t
put(char *buf, size_t size, size_t len, const char *format, ...)
{
    va_list args;
    int n;

    if (len >= size - 1) {
        return len;
    }
    va_start(args, format);
    n = vsnprintf(buf + len, size - len, format, args);
    va_end(args);
    return n < 0 ? len : len + n < size ? len + n : size - 1;
}

/* Appends SD-PARAM 'name'="'value'" (RFC 5424 escapes) unless 'value' is
 * null or empty. */
static size_t
put_param(char *buf, size_t size, size_t len, const char *name,
          const char *value)
{
    if (!value || !*value) {
        return len;
    }
    len = put(buf, size, len, " %s=\"", name);
    for (const char *p = value; *p && len < size - 2; p++) {
        if (*p == '"' || *p == '\\' || *p == ']') {
            if (len >= size - 3) {
                break;
            }
            buf[len++] = '\\';
        }
        buf[len++] = *p;
    }
    buf[len] = '\0';
    return put(buf, size, len, "\"");
}

/* Maps an incident's severity to a syslog severity. */
static int
syslog_severity(enum vnm_severity sev)
{
    switch (sev) {
    case VNM_SEV_CRITICAL: return 2;
    case VNM_SEV_HIGH: return 3;
    case VNM_SEV_MEDIUM: return 4;
    case VNM_SEV_LOW: return 5;
    case VNM_SEV_INFO: return 6;
    }
    return 6;
}

/* Formats 'alert' into s->msg; returns its length. */
static size_t
format_alert(struct syslog_sink *s, const struct vnm_alert *alert)
{
    const size_t size = sizeof s->msg;
    char *buf = s->msg;
    uint64_t ms = alert->last_ms ? alert->last_ms : s->host->now_ms(s->host);
    time_t secs = ms / 1000;
    char count[24];
    struct tm tm;
    size_t len;

    gmtime_r(&secs, &tm);
    len = put(buf, size, 0, "<%d>1 %04d-%02d-%02dT%02d:%02d:%02d.%03dZ "
              "%s %s %ld %s [" SYSLOG_SD_ID,
              s->facility * 8 + syslog_severity(alert->severity),
              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
              tm.tm_min, tm.tm_sec, (int) (ms % 1000), s->hostname,
              s->app_name, s->pid, vnm_alert_state_name(alert->state));
    len = put_param(buf, size, len, "id", alert->id);
    len = put_param(buf, size, len, "type", alert->kind);
    len = put_param(buf, size, len, "severity",
                    vnm_severity_name(alert->severity));
    len = put_param(buf, size, len, "state",
                    vnm_alert_state_name(alert->state));
    len = put_param(buf, size, len, "tenant", alert->tenant);
    if (alert->vm) {
        len = put_param(buf, size, len, "vm", alert->vm->vm);
        len = put_param(buf, size, len, "port", alert->vm->port);
    }
    len = put_param(buf, size, len, "host", alert->host_id);
    snprintf(count, sizeof count, "%"PRIu64, alert->count);
    len = put_param(buf, size, len, "count", count);
    len = put(buf, size, len, "] ");

    /* The summary, on one line, cut at a character boundary. */
    for (const char *p = alert->summary ? alert->summary : "";
         *p && len < size - 1; p++) {
        buf[len++] = *p == '\n' || *p == '\r' ? ' ' : *p;
    }
    if (len == size - 1) {
        while (len > 0 && ((unsigned char) buf[len - 1] & 0xc0) == 0x80) {
            len--;
        }
        if (len > 0 && (unsigned char) buf[len - 1] >= 0xc0) {
            len--;
        }
    }
    buf[len] = '\0';
    return len;
}

/* The socket. */

/* Parses 'address' into s->sa.  Returns 0 or EINVAL (logged). */
static int
parse_address(struct syslog_sink *s, const char *address)
{
    if (!strncmp(address, "unix:", 5)) {
        struct sockaddr_un *sun = (struct sockaddr_un *) &s->sa;
        const char *path = address + 5;

        if (!*path || strlen(path) >= sizeof sun->sun_path) {
            goto error;
        }
        sun->sun_family = AF_UNIX;
        memcpy(sun->sun_path, path, strlen(path) + 1);
        s->sa_len = sizeof *sun;
        return 0;
    } else if (!strncmp(address, "udp:", 4)) {
        const char *hostport = address + 4;
        const char *colon = strrchr(hostport, ':');
        struct addrinfo hints, *ai;
        char host[256];
        size_t len;
        int error;

        if (!colon || colon == hostport || !colon[1]) {
            goto error;
        }
        len = colon - hostport;
        if (hostport[0] == '[' && colon[-1] == ']') {
            hostport++;
            len -= 2;
        }
        if (len >= sizeof host) {
            goto error;
        }
        memcpy(host, hostport, len);
        host[len] = '\0';

        memset(&hints, 0, sizeof hints);
        hints.ai_socktype = SOCK_DGRAM;
        hints.ai_protocol = IPPROTO_UDP;
        error = getaddrinfo(host, colon + 1, &hints, &ai);
        if (error) {
            s->host->log(s->host, VNM_LOG_ERR, "address: %s: %s", address,
                         gai_strerror(error));
            return EINVAL;
        }
        memcpy(&s->sa, ai->ai_addr, ai->ai_addrlen);
        s->sa_len = ai->ai_addrlen;
        freeaddrinfo(ai);
        return 0;
    }

error:
    s->host->log(s->host, VNM_LOG_ERR, "address: %s: expected unix:PATH or "
                 "udp:HOST:PORT", address);
    return EINVAL;
}

static void
syslog_close(struct syslog_sink *s)
{
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
}

/* Opens and connects s->fd.  Returns 0 or a positive errno value. */
static int
syslog_open(struct syslog_sink *s)
{
    struct timeval tv = {
        .tv_sec = s->timeout_ms / 1000,
        .tv_usec = (s->timeout_ms % 1000) * 1000,
    };
    int fd;

    fd = socket(s->sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return errno;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv)
        || connect(fd, (struct sockaddr *) &s->sa, s->sa_len)) {
        int error = errno;

        close(fd);
        return error;
    }
    s->fd = fd;
    return 0;
}

/* Plugin callbacks. */

static void
syslog_destroy(void *state)
{
    struct syslog_sink *s = state;

    syslog_close(s);
    free(s);
}

static int
syslog_init(const struct vnm_host *host, const struct vnm_conf *conf,
            void **statep)
{
    const char *address, *facility, *app_name;
    struct syslog_sink *s;
    int64_t timeout_ms;
    int error;

    if ((error = host->conf_string(host, conf, "address", "unix:/dev/log",
                                   &address))
        || (error = host->conf_string(host, conf, "facility", "local0",
                                      &facility))
        || (error = host->conf_string(host, conf, "app_name", "vnmon",
                                      &app_name))
        || (error = host->conf_duration(host, conf, "timeout", 5000, 1,
                                        60000, &timeout_ms))) {
        return error;
    }

    s = calloc(1, sizeof *s);
    if (!s) {
        return ENOMEM;
    }
    s->host = host;
    s->address = address;
    s->fd = -1;
    s->timeout_ms = timeout_ms;
    s->pid = (long) getpid();
    if (gethostname(s->hostname, sizeof s->hostname) || !s->hostname[0]) {
        snprintf(s->hostname, sizeof s->hostname, "-");
    }
    s->hostname[sizeof s->hostname - 1] = '\0';

    s->facility = -1;
    for (size_t i = 0; i < sizeof facilities / sizeof *facilities; i++) {
        if (facilities[i] && !strcmp(facility, facilities[i])) {
            s->facility = i;
        }
    }
    if (s->facility < 0) {
        host->log(host, VNM_LOG_ERR, "facility: %s: unknown facility",
                  facility);
        error = EINVAL;
        goto error;
    }
    if (!*app_name || strlen(app_name) > 48 || strpbrk(app_name, " \t\n")) {
        host->log(host, VNM_LOG_ERR, "app_name: \"%s\": expected 1 to 48 "
                  "characters without spaces", app_name);
        error = EINVAL;
        goto error;
    }
    s->app_name = app_name;
    error = parse_address(s, address);
    if (error) {
        goto error;
    }
    *statep = s;
    return 0;

error:
    syslog_destroy(s);
    return error;
}

/* Sends 'alert' as one datagram.  'alert' is borrowed. */
static int
syslog_deliver(void *state, const struct vnm_alert *alert)
{
    struct syslog_sink *s = state;
    size_t len;
    int error;

    if (!alert->json) {
        return EINVAL;
    }
    len = format_alert(s, alert);

    error = s->fd < 0 ? syslog_open(s) : 0;
    errno = 0;
    if (!error && send(s->fd, s->msg, len, MSG_NOSIGNAL) != (ssize_t) len) {
        error = errno ? errno : EMSGSIZE;
        /* A new socket next time: the peer may come back elsewhere. */
        syslog_close(s);
    }
    if (error) {
        s->host->log(s->host, s->broken ? VNM_LOG_DBG : VNM_LOG_WARN,
                     "%s: cannot send (%s)", s->address, strerror(error));
        s->broken = true;
        s->host->count(s->host, "send_errors", 1);
        return EAGAIN;
    }
    if (s->broken) {
        s->host->log(s->host, VNM_LOG_INFO, "%s: sending again",
                     s->address);
        s->broken = false;
    }
    s->host->count(s->host, "delivered", 1);
    return 0;
}

static const struct vnm_sink_ops syslog_ops = {
    .deliver = syslog_deliver,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_SINK, .name = "syslog",
                  .version = "1.0", .init = syslog_init,
                  .destroy = syslog_destroy, .sink = &syslog_ops);
