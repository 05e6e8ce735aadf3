/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Quarantine requests in Redis: see quarantine.h.
 */
#include <config.h>

#include "lib/quarantine.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bw-series.h"
#include "lib/redis.h"
#include "lib/util.h"

/* Appends the action entry of 'req' to the events streams (the tenant's
 * too if 'tenant' is nonempty).  Returns 0 or an errno value. */
static int
log_action(struct vnm_redis *r, const char *action,
           const struct quarantine_request *req, const char *tenant)
{
    char *time_s = xasprintf("%"PRIu64, req->time_ms);
    char *tenant_key = NULL;
    const char *argv[2][22];
    int argcs[2];
    const char *const *argvs[2] = { argv[0], argv[1] };
    size_t n = 1;
    json_t *replies = NULL;
    int error;

    for (size_t i = 0; i < 2; i++) {
        const char *fields[] = {
            "XADD", i ? "" : "vnm:alerts:events", "MAXLEN", "~",
            QUARANTINE_EVENTS_MAXLEN, "*",
            "action", action, "port", req->port, "host", req->host,
            "by", req->by ? req->by : "",
            "incident", req->incident ? req->incident : "",
            "reason", req->reason ? req->reason : "",
            "time", time_s,
        };

        memcpy(argv[i], fields, sizeof fields);
        argcs[i] = (int) VNM_ARRAY_SIZE(fields);
    }
    if (tenant && tenant[0]) {
        char *esc = bw_escape(tenant);

        tenant_key = xasprintf("vnm:t:%s:alerts:events", esc);
        free(esc);
        argv[1][1] = tenant_key;
        n = 2;
    }
    error = vnm_redis_query_batch(r, n, argcs, argvs, &replies);
    for (size_t i = 0; !error && i < n; i++) {
        const char *id = json_string_value(json_array_get(replies, i));

        if (!id || !isdigit((unsigned char) id[0])) {
            error = EIO;        /* An error reply, not a stream id. */
        }
    }
    json_decref(replies);
    free(tenant_key);
    free(time_s);
    return error;
}

int
quarantine_add(struct vnm_redis *r, const struct quarantine_request *req,
               bool only_new)
{
    char *key = xasprintf(QUARANTINE_KEY, req->host);
    json_t *value = json_pack("{s:I, s:s, s:s?, s:s, s:s?}",
                              "since", (json_int_t) req->time_ms,
                              "by", req->by ? req->by : "",
                              "incident", req->incident,
                              "reason", req->reason ? req->reason : "",
                              "tenant", (req->tenant && req->tenant[0]
                                         ? req->tenant : NULL));
    char *text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *reply = NULL;
    int error;

    error = vnm_redis_query(r, &reply, "%s %s %s %s",
                            only_new ? "HSETNX" : "HSET", key, req->port,
                            text);
    if (!error && only_new && json_integer_value(reply) == 0) {
        error = EEXIST;
    }
    if (!error) {
        error = log_action(r, "quarantine", req, req->tenant);
    }
    json_decref(reply);
    free(text);
    json_decref(value);
    free(key);
    return error;
}

int
quarantine_remove(struct vnm_redis *r, const struct quarantine_request *req)
{
    char *key = xasprintf(QUARANTINE_KEY, req->host);
    json_t *old = NULL, *reply = NULL, *state = NULL;
    const char *tenant = req->tenant;
    int error;

    error = vnm_redis_query(r, &old, "HGET %s %s", key, req->port);
    if (!error && !json_is_string(old)) {
        error = ENOENT;
    }
    if (!error) {
        state = json_loads(json_string_value(old), 0, NULL);
        if (!tenant) {
            tenant = json_string_value(json_object_get(state, "tenant"));
        }
        error = vnm_redis_query(r, &reply, "HDEL %s %s", key, req->port);
    }
    if (!error && json_integer_value(reply) == 0) {
        error = ENOENT;         /* Released meanwhile. */
    }
    if (!error) {
        error = log_action(r, "release", req, tenant);
    }
    json_decref(state);
    json_decref(reply);
    json_decref(old);
    free(key);
    return error;
}
