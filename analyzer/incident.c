/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Incident table: see incident.h.  Open incidents are few (bounded by
 * 'max'), so a linear array is enough until a detector set makes it hot.
 */
#include <config.h>

#include "analyzer/incident.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "vnmon/alert.h"

struct incident_table {
    char *host_id;
    uint64_t idle_ms;
    size_t max;
    uint64_t next_seq;
    struct incident *incidents;
    size_t n;
};

struct incident_table *
incident_table_create(const char *host_id, uint64_t idle_ms, size_t max)
{
    struct incident_table *t = xzalloc(sizeof *t);

    t->host_id = xstrdup(host_id);
    t->idle_ms = idle_ms;
    t->max = max ? max : 1;
    t->incidents = xcalloc(t->max, sizeof *t->incidents);
    t->next_seq = vnm_time_wall_ms();
    return t;
}

static void
incident_uninit(struct incident *inc)
{
    free(inc->id);
    free(inc->kind);
    free(inc->key);
}

void
incident_table_destroy(struct incident_table *t)
{
    if (!t) {
        return;
    }
    for (size_t i = 0; i < t->n; i++) {
        incident_uninit(&t->incidents[i]);
    }
    free(t->incidents);
    free(t->host_id);
    free(t);
}

static void
remove_at(struct incident_table *t, size_t i)
{
    incident_uninit(&t->incidents[i]);
    t->incidents[i] = t->incidents[--t->n];
}

const struct incident *
incident_table_merge(struct incident_table *t, const struct vnm_alert *alert,
                     uint64_t now_ms)
{
    struct incident *inc;
    size_t i;

    for (i = 0; i < t->n; i++) {
        inc = &t->incidents[i];
        if (!strcmp(inc->kind, alert->kind) && !strcmp(inc->key, alert->key)) {
            inc->last_ms = now_ms;
            inc->count++;
            inc->packets += alert->packets;
            inc->bytes += alert->bytes;
            inc->n_updates++;
            return inc;
        }
    }
    if (t->n == t->max) {
        size_t oldest = 0;

        for (i = 1; i < t->n; i++) {
            if (t->incidents[i].last_ms < t->incidents[oldest].last_ms) {
                oldest = i;
            }
        }
        remove_at(t, oldest);
    }
    inc = &t->incidents[t->n++];
    *inc = (struct incident) {
        .id = xasprintf("%s-%s-%"PRIu64, t->host_id, alert->kind,
                        t->next_seq++),
        .kind = xstrdup(alert->kind),
        .key = xstrdup(alert->key),
        .first_ms = now_ms,
        .last_ms = now_ms,
        .count = 1,
        .packets = alert->packets,
        .bytes = alert->bytes,
    };
    return inc;
}

size_t
incident_table_expire(struct incident_table *t, uint64_t now_ms)
{
    size_t n_expired = 0;

    for (size_t i = 0; i < t->n;) {
        if (now_ms - t->incidents[i].last_ms >= t->idle_ms) {
            remove_at(t, i);
            n_expired++;
        } else {
            i++;
        }
    }
    return n_expired;
}

size_t
incident_table_count(const struct incident_table *t)
{
    return t->n;
}
