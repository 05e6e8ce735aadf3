/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alert sink "email": mails every incident record the analyzer delivers
 * (its opening, its updates, its resolution) through an SMTP server with
 * libcurl, one message per recipient, with a readable subject and a
 * plain-text body that lists every member of the record and its evidence.
 *
 * Configuration, section [sink "email"] (see doc/alerting.md):
 *
 *   server        SMTP URL (smtp://HOST:PORT or smtps://...), default
 *                 smtp://127.0.0.1:25.
 *   from          envelope and header sender, default vnmon@localhost.
 *   to            comma-separated recipients; required.
 *   subject       template: "${field}" is replaced by the record's member
 *                 'field'; default "[vnmon] ${severity} ${type} on ${vm}
 *                 (${tenant})".
 *   timeout       bound on one delivery, all recipients (duration, default
 *                 5s).
 *
 * A recipient that the server refuses with a 5xx reply is a permanent
 * failure; a connection failure, a timeout or a 4xx reply is transient.  If
 * any recipient failed transiently, deliver() returns EAGAIN and the host
 * retries the incident later, for every recipient: a recipient may then
 * get the same message twice (same incident id and Message-ID), never
 * none.  If all failures were permanent, it returns EINVAL.
 *
 * Built as sink-email.so like any third-party sink: it links no host
 * symbol and exports only 'vnm_plugin'.
 */
#include <config.h>

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerting/sink-util.h"
#include "vnmon/plugin.h"

#define EMAIL_DEFAULT_SUBJECT \
    "[vnmon] ${severity} ${type} on ${vm} (${tenant})"

/* The sink's state. */
struct email {
    const struct vnm_host *host;
    const char *server;         /* The host's copies, valid until */
    const char *from;           /* destroy(). */
    const char *to;
    const char *subject;
    int64_t timeout_ms;
    CURL *curl;
    struct su_buf msg;          /* The message being sent. */
    size_t msg_pos;             /* Bytes of 'msg' already read by curl. */
};

/* Output. */

/* Appends 'n' bytes at 'p' with every line break made CRLF and with no
 * other control character but tab. */
static void
put_mail_text(struct su_buf *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];

        if (c == '\n') {
            su_buf_put(b, "\r\n", 2);
        } else if (c < 0x20 && c != '\t') {
            su_buf_put(b, " ", 1);
        } else {
            su_buf_put(b, &c, 1);
        }
    }
}

/* Message. */

/* Appends 'subject' as a header value: as it is if it is printable ASCII,
 * otherwise as RFC 2047 encoded words (UTF-8, base64). */
static void
put_subject(struct su_buf *b, const char *subject)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t len = strlen(subject);
    bool ascii = true;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = subject[i];

        if (c < 0x20 || c > 0x7e) {
            ascii = false;
        }
    }
    if (ascii) {
        su_buf_put(b, subject, len);
        return;
    }
    /* 45 bytes per word: 60 base64 characters, words under 76 columns.
     * A word may split a UTF-8 sequence; decoders join adjacent words. */
    for (size_t i = 0; i < len; i += 45) {
        size_t n = len - i < 45 ? len - i : 45;
        const unsigned char *p = (const unsigned char *) subject + i;

        su_buf_puts(b, i ? "\r\n =?UTF-8?B?" : "=?UTF-8?B?");
        for (size_t j = 0; j < n; j += 3) {
            uint32_t v = p[j] << 16;
            char q[4];

            v |= j + 1 < n ? p[j + 1] << 8 : 0;
            v |= j + 2 < n ? p[j + 2] : 0;
            q[0] = b64[(v >> 18) & 63];
            q[1] = b64[(v >> 12) & 63];
            q[2] = j + 1 < n ? b64[(v >> 6) & 63] : '=';
            q[3] = j + 2 < n ? b64[v & 63] : '=';
            su_buf_put(b, q, 4);
        }
        su_buf_puts(b, "?=");
    }
}

/* Builds the message for 'alert' (its record 'record') to 'rcpt' in
 * 'e->msg'. */
static void
format_message(struct email *e, const struct vnm_alert *alert,
               const json_t *record, const char *rcpt)
{
    struct su_buf *b = &e->msg;
    struct su_buf subject = { 0 };
    const json_t *summary = json_object_get(record, "summary");
    const json_t *evidence = json_object_get(record, "evidence");
    const json_t *id = json_object_get(record, "id");
    const char *key;
    json_t *value;
    char date[64];
    time_t now = time(NULL);
    struct tm tm;

    b->len = 0;
    b->failed = false;
    e->msg_pos = 0;

    su_expand_template(&subject, e->subject, record, "-", 0);
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);

    su_buf_printf(b, "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\nSubject: ", date,
                  e->from, rcpt);
    put_subject(b, subject.failed || !subject.s ? "[vnmon] alert"
                : subject.s);
    su_buf_destroy(&subject);
    su_buf_printf(b, "\r\nMessage-ID: <%s.%s.%" PRIu32 "@vnmon>\r\n",
                  json_is_string(id) ? json_string_value(id) : "incident",
                  vnm_alert_state_name(alert->state), alert->n_updates);
    su_buf_puts(b, "MIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n"
                "Content-Transfer-Encoding: 8bit\r\n"
                "Auto-Submitted: auto-generated\r\n\r\n");

    if (json_is_string(summary)) {
        put_mail_text(b, json_string_value(summary),
                      json_string_length(summary));
        su_buf_puts(b, "\r\n\r\n");
    }
    json_object_foreach((json_t *) record, key, value) {
        struct su_buf text = { 0 };

        if (!strcmp(key, "evidence")) {
            continue;
        }
        su_put_text(&text, value, "-");
        su_buf_printf(b, "%-12s ", key);
        if (text.s) {
            put_mail_text(b, text.s, text.len);
        }
        su_buf_puts(b, "\r\n");
        b->failed |= text.failed;
        su_buf_destroy(&text);
    }
    if (json_is_array(evidence)) {
        su_buf_puts(b, "\r\nEvidence:\r\n");
        for (size_t i = 0; i < json_array_size(evidence); i++) {
            const json_t *line = json_array_get(evidence, i);

            if (json_is_string(line)) {
                su_buf_puts(b, "  ");
                put_mail_text(b, json_string_value(line),
                              json_string_length(line));
                su_buf_puts(b, "\r\n");
            }
        }
    }
    su_buf_puts(b, "\r\n-- \r\nvnmon alert record:\r\n");
    put_mail_text(b, alert->json, strlen(alert->json));
    su_buf_puts(b, "\r\n");
}

/* SMTP. */

static size_t
read_cb(char *buffer, size_t size, size_t n_items, void *e_)
{
    struct email *e = e_;
    size_t n = size * n_items;
    size_t left = e->msg.len - e->msg_pos;

    if (n > left) {
        n = left;
    }
    memcpy(buffer, e->msg.s + e->msg_pos, n);
    e->msg_pos += n;
    return n;
}

/* Milliseconds on CLOCK_MONOTONIC. */
static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends 'e->msg' to 'rcpt' within 'budget_ms'.  Returns 0, EAGAIN or
 * EINVAL (a 5xx reply); stores a description of a failure in 'what'. */
static int
email_send(struct email *e, const char *rcpt, int64_t budget_ms,
           char *what, size_t size)
{
    struct curl_slist *rcpts;
    long reply = 0;
    CURLcode rc;

    rcpts = curl_slist_append(NULL, rcpt);
    if (!rcpts) {
        snprintf(what, size, "out of memory");
        return EAGAIN;
    }
    curl_easy_setopt(e->curl, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, (long) budget_ms);
    curl_easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT_MS, (long) budget_ms);
    curl_easy_setopt(e->curl, CURLOPT_INFILESIZE_LARGE,
                     (curl_off_t) e->msg.len);
    rc = curl_easy_perform(e->curl);
    curl_easy_setopt(e->curl, CURLOPT_MAIL_RCPT, NULL);
    curl_slist_free_all(rcpts);
    if (rc == CURLE_OK) {
        return 0;
    }
    curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &reply);
    snprintf(what, size, "%s, reply %ld", curl_easy_strerror(rc), reply);
    return reply >= 500 && reply < 600 ? EINVAL : EAGAIN;
}

/* Plugin callbacks. */

static void
email_destroy(void *state)
{
    struct email *e = state;

    if (e->curl) {
        curl_easy_cleanup(e->curl);
    }
    su_buf_destroy(&e->msg);
    free(e);
    curl_global_cleanup();
}

static int
email_init(const struct vnm_host *host, const struct vnm_conf *conf,
           void **statep)
{
    const char *server, *from, *to, *subject;
    int64_t timeout_ms;
    struct email *e;
    int error;

    if ((error = host->conf_string(host, conf, "server",
                                   "smtp://127.0.0.1:25", &server))
        || (error = host->conf_string(host, conf, "from", "vnmon@localhost",
                                      &from))
        || (error = host->conf_string(host, conf, "to", NULL, &to))
        || (error = host->conf_string(host, conf, "subject",
                                      EMAIL_DEFAULT_SUBJECT, &subject))
        || (error = host->conf_duration(host, conf, "timeout", 5000, 100,
                                        60000, &timeout_ms))) {
        return error;
    }
    if (!to || !strpbrk(to, "@")) {
        host->log(host, VNM_LOG_ERR, "missing required key \"to\" (the "
                  "recipients' addresses, comma-separated)");
        return EINVAL;
    }
    if (!from || !strchr(from, '@') || strpbrk(from, "<>\r\n")) {
        host->log(host, VNM_LOG_ERR, "from: \"%s\" is not an address",
                  from ? from : "");
        return EINVAL;
    }

    e = calloc(1, sizeof *e);
    if (!e) {
        return ENOMEM;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
        free(e);
        return ENOMEM;
    }
    e->host = host;
    e->server = server;
    e->from = from;
    e->to = to;
    e->subject = subject;
    e->timeout_ms = timeout_ms;
    e->curl = curl_easy_init();
    if (!e->curl) {
        error = ENOMEM;
        goto error;
    }
    curl_easy_setopt(e->curl, CURLOPT_URL, e->server);
    curl_easy_setopt(e->curl, CURLOPT_MAIL_FROM, e->from);
    curl_easy_setopt(e->curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e->curl, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(e->curl, CURLOPT_READDATA, e);
    curl_easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e->curl, CURLOPT_USE_SSL, (long) CURLUSESSL_TRY);
    *statep = e;
    return 0;

error:
    email_destroy(e);
    return error;
}

/* Mails 'alert' to each recipient.  'alert' is borrowed. */
static int
email_deliver(void *state, const struct vnm_alert *alert)
{
    struct email *e = state;
    int64_t deadline = mono_ms() + e->timeout_ms;
    bool transient = false, permanent = false;
    json_error_t jerror;
    json_t *record;
    char what[160];
    const char *p;

    if (!alert->json) {
        return EINVAL;
    }
    record = json_loads(alert->json, 0, &jerror);
    if (!json_is_object(record)) {
        json_decref(record);
        e->host->log(e->host, VNM_LOG_WARN, "incident %s: malformed record "
                     "(%s)", alert->id ? alert->id : "?", jerror.text);
        e->host->count(e->host, "failed", 1);
        return EINVAL;
    }

    for (p = e->to; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len;
        char rcpt[256];
        int64_t left;
        int error;

        while (*p == ' ') {
            p++;
        }
        len = end ? (size_t) (end - p) : strlen(p);
        while (len && p[len - 1] == ' ') {
            len--;
        }
        if (len >= sizeof rcpt) {
            len = sizeof rcpt - 1;
        }
        memcpy(rcpt, p, len);
        rcpt[len] = '\0';
        p = end ? end + 1 : NULL;
        if (!len) {
            continue;
        }

        format_message(e, alert, record, rcpt);
        if (e->msg.failed) {
            transient = true;
            continue;
        }
        left = deadline - mono_ms();
        if (left <= 0) {
            transient = true;
            snprintf(what, sizeof what, "timed out");
            break;
        }
        error = email_send(e, rcpt, left, what, sizeof what);
        if (!error) {
            e->host->count(e->host, "messages", 1);
        } else if (error == EAGAIN) {
            transient = true;
            e->host->log(e->host, VNM_LOG_DBG, "incident %s: %s: %s: %s, "
                         "will retry", alert->id ? alert->id : "?",
                         e->server, rcpt, what);
        } else {
            permanent = true;
            e->host->log(e->host, VNM_LOG_WARN, "incident %s: %s refused "
                         "%s (%s)", alert->id ? alert->id : "?", e->server,
                         rcpt, what);
        }
    }
    json_decref(record);

    if (transient) {
        e->host->count(e->host, "send_errors", 1);
        return EAGAIN;
    }
    if (permanent) {
        e->host->count(e->host, "failed", 1);
        return EINVAL;
    }
    e->host->count(e->host, "delivered", 1);
    return 0;
}

static const struct vnm_sink_ops email_ops = {
    .deliver = email_deliver,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_SINK, .name = "email", .version = "1.0",
                  .init = email_init, .destroy = email_destroy,
                  .sink = &email_ops);
