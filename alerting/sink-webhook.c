/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alert sink "webhook": POSTs every incident record the analyzer delivers
 * (its opening, its updates, its resolution) to an HTTP(S) URL through
 * libcurl, as the record's JSON or as a body built from a template, so that
 * chat webhooks and SMS gateways can be fed directly.
 *
 * Configuration, section [sink "webhook"] (see doc/alerting.md):
 *
 *   url           where to POST; required.
 *   timeout       bound on one delivery, retries included (duration,
 *                 default 5s).
 *   retries       further attempts within one delivery after a transient
 *                 failure (0..10, default 2), with a short backoff.
 *   headers       comma-separated "Name: value" request headers.  The
 *                 default Content-Type is application/json.
 *   template      the body; "${field}" is replaced by the record's member
 *                 'field' as text (null: empty; evidence: lines joined by
 *                 "; "), "${field|json}" by its JSON encoding.  Default: the
 *                 record itself.
 *
 * A 2xx answer is success.  A 408, a 429, a 5xx or a transport failure
 * (refused, timed out) is retried; when the attempts or the time are used
 * up, deliver() returns EAGAIN and the host spools the incident.  Any other
 * answer (4xx, 3xx) is a permanent failure, EINVAL.  Which incidents reach
 * the sink is the analyzer's routing (doc/alerting.md, "Routing").
 *
 * Built as sink-webhook.so like any third-party sink: it links no host
 * symbol and exports only 'vnm_plugin'.
 */
#include <config.h>

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "alerting/sink-util.h"
#include "vnmon/plugin.h"

/* The sink's state. */
struct webhook {
    const struct vnm_host *host;
    const char *url;            /* The host's copy, valid until destroy(). */
    const char *template;       /* Null for the record itself. */
    int64_t timeout_ms;
    int64_t retries;
    struct curl_slist *headers; /* Request headers. */
    CURL *curl;                 /* Reused, to keep connections alive. */
    struct su_buf body;         /* Reused for every request. */
};

/* Fills 'w->body' for 'alert'.  Returns 0, or EINVAL if the record is not
 * a JSON object. */
static int
format_body(struct webhook *w, const struct vnm_alert *alert)
{
    struct su_buf *b = &w->body;
    json_error_t error;
    json_t *record;

    su_buf_clear(b);
    if (!w->template) {
        su_buf_puts(b, alert->json);
        return 0;
    }
    record = json_loads(alert->json, 0, &error);
    if (!json_is_object(record)) {
        json_decref(record);
        w->host->log(w->host, VNM_LOG_WARN, "incident %s: malformed record "
                     "(%s)", alert->id ? alert->id : "?", error.text);
        return EINVAL;
    }
    su_expand_template(b, w->template, record, "", SU_TEMPLATE_JSON);
    json_decref(record);
    return 0;
}

/* HTTP. */

static size_t
discard_cb(char *ptr, size_t size, size_t n, void *aux)
{
    (void) ptr;
    (void) aux;
    return size * n;
}

/* Milliseconds on CLOCK_MONOTONIC: the real time that deliver() spends,
 * whatever the host's clock says. */
static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int64_t ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

    while (nanosleep(&ts, &ts) && errno == EINTR) {
        continue;
    }
}

/* One POST of 'w->body', given 'budget_ms'.  Returns 0 on a 2xx answer,
 * EAGAIN for a failure worth retrying, EINVAL for a permanent one; stores
 * a description of the outcome in 'what'. */
static int
webhook_post(struct webhook *w, int64_t budget_ms, char *what, size_t size)
{
    CURL *c = w->curl;
    long status = 0;
    CURLcode rc;

    curl_easy_setopt(c, CURLOPT_POSTFIELDS, w->body.s);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t) w->body.len);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long) budget_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long) budget_ms);
    rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        snprintf(what, size, "%s", curl_easy_strerror(rc));
        return EAGAIN;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    snprintf(what, size, "HTTP status %ld", status);
    if (status >= 200 && status < 300) {
        return 0;
    }
    if (status == 408 || status == 429 || status >= 500) {
        return EAGAIN;
    }
    return EINVAL;
}

/* Plugin callbacks. */

static void
webhook_destroy(void *state)
{
    struct webhook *w = state;

    if (w->curl) {
        curl_easy_cleanup(w->curl);
    }
    curl_slist_free_all(w->headers);
    su_buf_destroy(&w->body);
    free(w);
    curl_global_cleanup();
}

/* Adds the comma-separated "Name: value" headers of 'list' to 'w'.
 * Returns 0, EINVAL for a malformed one, or ENOMEM. */
static int
add_headers(struct webhook *w, const char *list)
{
    bool content_type = false;
    const char *p = list;

    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len;
        struct curl_slist *l;
        char *h;

        while (*p == ' ') {
            p++;
        }
        len = end ? (size_t) (end - p) : strlen(p);
        while (len && p[len - 1] == ' ') {
            len--;
        }
        if (len) {
            const char *colon = memchr(p, ':', len);

            if (!colon || colon == p) {
                w->host->log(w->host, VNM_LOG_ERR, "headers: \"%.*s\" is "
                             "not \"Name: value\"", (int) len, p);
                return EINVAL;
            }
            if ((size_t) (colon - p) == strlen("Content-Type")
                && !strncasecmp(p, "Content-Type", colon - p)) {
                content_type = true;
            }
            h = malloc(len + 1);
            if (!h) {
                return ENOMEM;
            }
            memcpy(h, p, len);
            h[len] = '\0';
            l = curl_slist_append(w->headers, h);
            free(h);
            if (!l) {
                return ENOMEM;
            }
            w->headers = l;
        }
        p = end ? end + 1 : NULL;
    }
    if (!content_type) {
        struct curl_slist *l = curl_slist_append(
            w->headers, "Content-Type: application/json");

        if (!l) {
            return ENOMEM;
        }
        w->headers = l;
    }
    /* No "Expect: 100-continue" round trip. */
    struct curl_slist *l = curl_slist_append(w->headers, "Expect:");
    if (!l) {
        return ENOMEM;
    }
    w->headers = l;
    return 0;
}

static int
webhook_init(const struct vnm_host *host, const struct vnm_conf *conf,
             void **statep)
{
    const char *url, *headers, *template;
    int64_t timeout_ms, retries;
    struct webhook *w;
    int error;

    if ((error = host->conf_string(host, conf, "url", NULL, &url))
        || (error = host->conf_duration(host, conf, "timeout", 5000, 100,
                                        60000, &timeout_ms))
        || (error = host->conf_int(host, conf, "retries", 2, 0, 10,
                                   &retries))
        || (error = host->conf_string(host, conf, "headers", NULL,
                                      &headers))
        || (error = host->conf_string(host, conf, "template", NULL,
                                      &template))) {
        return error;
    }
    if (!url || !*url) {
        host->log(host, VNM_LOG_ERR, "missing required key \"url\" (where "
                  "to POST incidents)");
        return EINVAL;
    }

    w = calloc(1, sizeof *w);
    if (!w) {
        return ENOMEM;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
        free(w);
        return ENOMEM;
    }
    w->host = host;
    w->url = url;
    w->template = template && *template ? template : NULL;
    w->timeout_ms = timeout_ms;
    w->retries = retries;
    error = add_headers(w, headers);
    if (error) {
        goto error;
    }
    w->curl = curl_easy_init();
    if (!w->curl) {
        error = ENOMEM;
        goto error;
    }
    curl_easy_setopt(w->curl, CURLOPT_URL, w->url);
    curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, w->headers);
    curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, discard_cb);
    curl_easy_setopt(w->curl, CURLOPT_USERAGENT, "vnmon-sink-webhook/1.0");
    *statep = w;
    return 0;

error:
    webhook_destroy(w);
    return error;
}

/* POSTs 'alert', retrying transient failures within the timeout.  'alert'
 * is borrowed. */
static int
webhook_deliver(void *state, const struct vnm_alert *alert)
{
    struct webhook *w = state;
    int64_t deadline = mono_ms() + w->timeout_ms;
    int64_t backoff = 100;
    char what[128];
    int error;

    if (!alert->json) {
        return EINVAL;
    }
    error = format_body(w, alert);
    if (error) {
        w->host->count(w->host, "failed", 1);
        return error;
    }
    if (w->body.failed) {
        w->host->count(w->host, "post_errors", 1);
        return EAGAIN;
    }

    for (int64_t attempt = 0; ; attempt++) {
        int64_t left = deadline - mono_ms();

        error = left > 0 ? webhook_post(w, left, what, sizeof what) : EAGAIN;
        if (error != EAGAIN || attempt >= w->retries) {
            break;
        }
        w->host->count(w->host, "retries", 1);
        left = deadline - mono_ms();
        if (left <= backoff) {
            break;
        }
        sleep_ms(backoff);
        backoff *= 2;
    }

    if (!error) {
        w->host->count(w->host, "delivered", 1);
    } else if (error == EAGAIN) {
        w->host->count(w->host, "post_errors", 1);
        w->host->log(w->host, VNM_LOG_DBG, "incident %s: %s: %s, will retry",
                     alert->id ? alert->id : "?", w->url, what);
    } else {
        w->host->count(w->host, "failed", 1);
        w->host->log(w->host, VNM_LOG_WARN, "incident %s: %s refused it (%s)",
                     alert->id ? alert->id : "?", w->url, what);
    }
    return error;
}

static const struct vnm_sink_ops webhook_ops = {
    .deliver = webhook_deliver,
};

VNM_PLUGIN_DEFINE(.kind = VNM_PLUGIN_SINK, .name = "webhook",
                  .version = "1.0", .init = webhook_init,
                  .destroy = webhook_destroy, .sink = &webhook_ops);
