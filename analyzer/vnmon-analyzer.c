/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vnmon-analyzer: loads detector plugins, feeds them flow records, merges
 * what they raise into incidents kept in Redis (analyzer/incident.c), and
 * hands each incident record (analyzer/alert-record.c) to the alert sink
 * plugins (alerting/) and to the append-only archive.
 *
 * Incidents reach a sink if its route lets them through (analyzer/route.c:
 * the tenant, min_severity, types and states keys of its section, enforced
 * here for every sink), and through the sink's spool (analyzer/spool.c):
 * what a sink cannot take now is written to disk, fsync'd before the flow
 * record that raised it is acknowledged, and retried on the tick.
 *
 * Flow records are read at least once: an entry of an agent's stream is
 * acknowledged (XACK) only after its detectors ran and what they emitted
 * was stored; otherwise it stays pending in the consumer group.  On start
 * and after each reconnection the analyzer first re-reads its own pending
 * entries, and it claims (XAUTOCLAIM) those that other consumers left
 * pending for more than CLAIM_IDLE_MS, e.g. an analyzer that died.
 *
 * The daemon shell (configuration, plugins, Redis, status) comes from
 * lib/daemon.c.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "analyzer/auto-quarantine.h"
#include "analyzer/incident.h"
#include "analyzer/net-sync.h"
#include "analyzer/route.h"
#include "analyzer/spool.h"
#include "analyzer/tenancy.h"
#include "lib/conf.h"
#include "lib/counter.h"
#include "lib/daemon.h"
#include "lib/flow-codec.h"
#include "lib/log.h"
#include "lib/redis.h"

VNM_LOG_MODULE(analyzer);

VNM_COUNTER_DEFINE(alerts_emitted);
VNM_COUNTER_DEFINE(alerts_rejected);
VNM_COUNTER_DEFINE(alerts_store_failed);
VNM_COUNTER_DEFINE(alerts_delivered);
VNM_COUNTER_DEFINE(alerts_deferred);
VNM_COUNTER_DEFINE(alerts_failed);
VNM_COUNTER_DEFINE(flows_consumed);
VNM_COUNTER_DEFINE(flows_malformed);
VNM_COUNTER_DEFINE(flows_acked);
VNM_COUNTER_DEFINE(flows_unacked);
VNM_COUNTER_DEFINE(flows_reread);
VNM_COUNTER_DEFINE(flows_claimed);
VNM_COUNTER_DEFINE(flows_gone);
VNM_COUNTER_DEFINE(archive_records);
VNM_COUNTER_DEFINE(archive_errors);

enum {
    POLL_MS = 200,              /* Flow stream poll period. */
    DISCOVER_MS = 5000,         /* Agent discovery period. */
    CLAIM_IDLE_MS = 30000,      /* Others' pending entries idle this long
                                 * are claimed... */
    CLAIM_MS = 10000,           /* ...looked for this often... */
    READS_PER_POLL = 10,        /* ...and read at most this many batches
                                 * per poll, as pending entries are. */
    RETRY_BUDGET_MS = 100,      /* Spooled deliveries retried per sink and
                                 * tick, for about this long at most. */
};

/* An alert sink: a [sink "NAME"] section's route (from configure) and, once
 * its plugin is loaded, its instance and spool (from start). */
struct sink {
    const char *name;           /* The section's name, the instance's. */
    struct route *route;        /* What it receives. */
    struct vnm_plugin_instance *inst; /* Null before start. */
    struct spool *spool;        /* Null before start and after stop. */
};

/* One agent's flow stream. */
struct stream {
    char *key;                  /* "vnm:{HOST}:flows". */
    char host[VNM_ID_SIZE];     /* HOST, given to its records. */
    bool group_ready;           /* Consumer group exists. */
    bool reread;                /* This consumer's pending entries are to
                                 * be read again, from 'pending_cursor',
                                 * before new ones. */
    char pending_cursor[48];
    bool claiming;              /* XAUTOCLAIM under way, at
                                 * 'claim_cursor'. */
    char claim_cursor[48];
    uint64_t next_claim_ms;     /* Monotonic time of the next claim. */
};

/* How an entry came to be read, for the counters. */
enum entry_source {
    ENTRY_NEW,                  /* Never delivered before (">"). */
    ENTRY_PENDING,              /* This consumer's, read again. */
    ENTRY_CLAIMED,              /* Another consumer's, claimed. */
};

struct analyzer {
    struct vnm_daemon *daemon;
    struct incident_store_options store_opts;
    struct incident_store *store;
    struct tenancy *tenancy;    /* tenancy: the network view (host->net). */
    struct auto_quarantine *aq; /* [quarantine]: ports to isolate. */
    struct net_sync *net_sync;  /* tenancy: ...kept in step with Redis. */

    /* Flow streams, read with a consumer group. */
    const char *group;          /* [analyzer] group. */
    const char *consumer_conf;  /* [analyzer] consumer, "" by default. */
    int64_t batch;              /* Records per read. */
    char *consumer;             /* This analyzer's name in the group. */
    struct stream *streams;
    size_t n_streams;
    uint64_t next_discover_ms;
    uint64_t n_connects;        /* Redis connections seen (a new one makes
                                 * pending entries be read again). */
    bool store_failed;          /* An emission could not be stored while
                                 * the current entry was processed. */
    struct event *poll_ev;

    /* The archive: every delivered record, one per line, appended. */
    const char *archive_path;   /* [analyzer] archive. */
    int archive_fd;             /* -1 until opened, or after an error. */
    bool archive_broken;        /* The last attempt failed. */

    /* Alert sinks, in configuration order. */
    struct spool_options spool_opts; /* [analyzer] spool, spool_max... */
    struct sink *sinks;
    size_t n_sinks;
};

/* tenancy: gives 'flow' (read from stream 's') its host and lets the
 * network view learn from it, before the detectors see it. */
static void
analyzer_net_flow(struct analyzer *a, const struct stream *s,
                  struct vnm_flow *flow)
{
    if (!flow->host[0]) {
        vnm_strlcpy(flow->host, s->host, sizeof flow->host);
    }
    if (tenancy_learn(a->tenancy, flow, vnm_time_wall_ms())) {
        net_sync_learned(a->net_sync, flow->host);
    }
}

/* Hands one flow record to every detector. */
static void
run_detectors(struct analyzer *a, const struct vnm_flow *flow)
{
    struct vnm_loader *loader = vnm_daemon_loader(a->daemon);

    for (size_t i = 0; i < vnm_loader_count(loader); i++) {
        struct vnm_plugin_instance *inst = vnm_loader_get(loader, i);

        if (inst->desc->kind == VNM_PLUGIN_DETECTOR) {
            inst->desc->detector->on_flow(inst->state, flow);
        }
    }
}

/* Adds the flow streams of agents that reported to Redis. */
static void
discover_streams(struct analyzer *a)
{
    struct vnm_redis *r = vnm_daemon_redis(a->daemon);
    json_t *members = NULL;
    json_t *m;
    size_t i;

    if (vnm_redis_query(r, &members, "SMEMBERS vnm:daemons")) {
        json_decref(members);
        return;
    }
    json_array_foreach (members, i, m) {
        const char *member = json_string_value(m);
        const char *slash = member ? strrchr(member, '/') : NULL;
        char *key;
        bool known = false;
        size_t n;

        if (!slash || strcmp(slash + 1, "agent")) {
            continue;
        }
        key = xasprintf("vnm:{%.*s}:flows", (int) (slash - member), member);
        for (size_t j = 0; j < a->n_streams; j++) {
            known = known || !strcmp(a->streams[j].key, key);
        }
        if (known) {
            free(key);
            continue;
        }
        a->streams = xrealloc(a->streams,
                              (a->n_streams + 1) * sizeof *a->streams);
        a->streams[a->n_streams] = (struct stream) {
            .key = key,
            .reread = true,
            .pending_cursor = "0",
        };
        n = (size_t) (slash - member) + 1;         /* HOST and its NUL. */
        vnm_strlcpy(a->streams[a->n_streams].host, member,
                    n < VNM_ID_SIZE ? n : VNM_ID_SIZE);
        a->n_streams++;
        VNM_INFO("reading flow records from %s", key);
    }
    json_decref(members);
}

/* Creates the consumer group of stream 's' if needed.  Returns true if it
 * exists. */
static bool
ensure_group(struct analyzer *a, struct stream *s)
{
    struct vnm_redis *r = vnm_daemon_redis(a->daemon);
    json_t *reply = NULL;
    int error;

    if (s->group_ready) {
        return true;
    }
    /* From "$": a new group starts with new records; an existing one
     * (an analyzer restarted) resumes where the group was. */
    error = vnm_redis_query(r, &reply, "XGROUP CREATE %s %s $ MKSTREAM",
                            s->key, a->group);
    if (!error || (error == EIO && json_is_string(reply)
                   && strstr(json_string_value(reply), "BUSYGROUP"))) {
        s->group_ready = true;
    }
    json_decref(reply);
    return s->group_ready;
}

/* Notes a failed read of stream 's' whose reply was 'reply'. */
static void
read_failed(struct stream *s, int error, const json_t *reply)
{
    if (error == EIO && json_is_string(reply)
        && strstr(json_string_value(reply), "NOGROUP")) {
        s->group_ready = false;         /* The stream was deleted. */
    }
}

/* Runs the detectors on 'entry' of stream 's', [ID, [FIELD, VALUE...]]
 * (or [ID, null] for an entry deleted from the stream since it was first
 * delivered), and acknowledges it unless something its detectors emitted
 * could not be stored: then it stays pending, to be read again. */
static void
process_entry(struct analyzer *a, struct stream *s, const json_t *entry,
              enum entry_source source)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(6, 3);
    struct vnm_redis *r = vnm_daemon_redis(a->daemon);
    const char *id = json_string_value(json_array_get(entry, 0));
    const json_t *fields = json_array_get(entry, 1);
    struct vnm_flow flow;
    const char *text = NULL;
    json_t *j = NULL;
    char *perror = NULL;

    if (!id) {
        return;
    }
    if (source == ENTRY_PENDING) {
        VNM_COUNTER_INC(flows_reread);
    } else if (source == ENTRY_CLAIMED) {
        VNM_COUNTER_INC(flows_claimed);
    }
    a->store_failed = false;
    if (json_is_null(fields)) {
        VNM_COUNTER_INC(flows_gone);    /* Trimmed before it was read. */
    } else {
        for (size_t f = 0; f + 1 < json_array_size(fields); f += 2) {
            const char *name = json_string_value(json_array_get(fields, f));

            if (name && !strcmp(name, "r")) {
                text = json_string_value(json_array_get(fields, f + 1));
            }
        }
        j = text ? json_loads(text, 0, NULL) : NULL;
        if (!j || (perror = flow_from_json(j, &flow))) {
            VNM_COUNTER_INC(flows_malformed);
            VNM_WARN_RL(&rl, "%s: entry %s is not a flow record (%s)",
                        s->key, id, perror ? perror : "no JSON");
        } else {
            VNM_COUNTER_INC(flows_consumed);
            analyzer_net_flow(a, s, &flow);     /* tenancy */
            run_detectors(a, &flow);
        }
        free(perror);
        json_decref(j);
    }
    if (a->store_failed) {
        VNM_COUNTER_INC(flows_unacked);
    } else if (!vnm_redis_append(r, "XACK %s %s %s", s->key, a->group, id)) {
        VNM_COUNTER_INC(flows_acked);
    }
    a->store_failed = false;
}

/* Reads again up to READS_PER_POLL batches of this consumer's pending
 * entries of 's' (delivered to it, never acknowledged: a previous run
 * died, or their emissions could not be stored), from 's->pending_cursor'
 * on.  Clears 's->reread' once they are all read. */
static void
read_pending(struct analyzer *a, struct stream *s)
{
    struct vnm_redis *r = vnm_daemon_redis(a->daemon);

    for (int n = 0; n < READS_PER_POLL && s->reread; n++) {
        json_t *reply = NULL, *entries, *entry;
        size_t i;
        int error;

        error = vnm_redis_query(r, &reply,
                                "XREADGROUP GROUP %s %s COUNT %"PRId64
                                " STREAMS %s %s", a->group, a->consumer,
                                a->batch, s->key, s->pending_cursor);
        if (error) {
            read_failed(s, error, reply);
            json_decref(reply);
            return;
        }
        /* [[KEY, [[ID, [FIELD, VALUE...] or null]...]]] */
        entries = json_array_get(json_array_get(reply, 0), 1);
        if (!json_array_size(entries)) {
            s->reread = false;
        }
        json_array_foreach (entries, i, entry) {
            const char *id = json_string_value(json_array_get(entry, 0));

            process_entry(a, s, entry, ENTRY_PENDING);
            if (id && strlen(id) < sizeof s->pending_cursor) {
                vnm_strlcpy(s->pending_cursor, id,
                            sizeof s->pending_cursor);
            } else {
                s->reread = false;      /* Cannot go on: not an ID. */
            }
        }
        json_decref(reply);
        vnm_redis_flush(r);
    }
}

/* Claims and processes entries of 's' that consumers of the group (this
 * one included) left pending for more than CLAIM_IDLE_MS, up to
 * READS_PER_POLL batches per call, resuming at 's->claim_cursor'. */
static void
claim_pending(struct analyzer *a, struct stream *s)
{
    struct vnm_redis *r = vnm_daemon_redis(a->daemon);

    for (int n = 0; n < READS_PER_POLL && s->claiming; n++) {
        json_t *reply = NULL, *entries, *entry;
        const char *next;
        size_t i;
        int error;

        error = vnm_redis_query(r, &reply,
                                "XAUTOCLAIM %s %s %s %d %s COUNT %"PRId64,
                                s->key, a->group, a->consumer,
                                (int) CLAIM_IDLE_MS, s->claim_cursor,
                                a->batch);
        if (error) {
            read_failed(s, error, reply);
            json_decref(reply);
            return;
        }
        /* [NEXT-CURSOR, [[ID, [FIELD, VALUE...]]...], [DELETED-ID...]] */
        next = json_string_value(json_array_get(reply, 0));
        entries = json_array_get(reply, 1);
        json_array_foreach (entries, i, entry) {
            process_entry(a, s, entry, ENTRY_CLAIMED);
        }
        if (!next || !strcmp(next, "0-0")
            || strlen(next) >= sizeof s->claim_cursor) {
            s->claiming = false;
        } else {
            vnm_strlcpy(s->claim_cursor, next, sizeof s->claim_cursor);
        }
        json_decref(reply);
        vnm_redis_flush(r);
    }
}

/* Reads what is pending or new in stream 's' for this consumer, runs the
 * detectors on it and acknowledges it.  Returns true if more new entries
 * may be waiting (the time budget ran out on full batches). */
static bool
read_stream(struct analyzer *a, struct stream *s, uint64_t now)
{
    struct vnm_redis *r = vnm_daemon_redis(a->daemon);
    json_t *reply = NULL, *entries, *entry;
    size_t i;
    int error;

    if (!ensure_group(a, s)) {
        return false;
    }
    if (s->reread) {
        read_pending(a, s);
        if (s->reread) {
            return true;        /* More next time, before new entries. */
        }
    }
    if (!s->claiming && now >= s->next_claim_ms) {
        s->claiming = true;
        vnm_strlcpy(s->claim_cursor, "0-0", sizeof s->claim_cursor);
        s->next_claim_ms = now + CLAIM_MS;
    }
    if (s->claiming) {
        claim_pending(a, s);
    }

    /* New entries: batch after batch while they come full, within a time
     * budget, so that a backlog drains at the speed of the detectors, not
     * at one batch per poll. */
    for (int n = 0; n < READS_PER_POLL; n++) {
        size_t got;

        reply = NULL;
        error = vnm_redis_query(r, &reply,
                                "XREADGROUP GROUP %s %s COUNT %"PRId64
                                " STREAMS %s >", a->group, a->consumer,
                                a->batch, s->key);
        if (error) {
            read_failed(s, error, reply);
        }
        /* [[KEY, [[ID, [FIELD, VALUE...]]...]]], or null if nothing new. */
        entries = json_array_get(json_array_get(reply, 0), 1);
        got = json_array_size(entries);
        json_array_foreach (entries, i, entry) {
            process_entry(a, s, entry, ENTRY_NEW);
        }
        json_decref(reply);
        vnm_redis_flush(r);
        if (error || got < (size_t) a->batch) {
            return false;
        }
        if (vnm_time_mono_ms() - now >= POLL_MS / 2) {
            break;
        }
    }
    return true;
}

static void
poll_cb(evutil_socket_t fd, short what, void *a_)
{
    struct analyzer *a = a_;
    uint64_t now = vnm_time_mono_ms();
    struct vnm_redis_stats stats;

    if (!vnm_redis_is_connected(vnm_daemon_redis(a->daemon))) {
        return;                 /* The heartbeat reconnects. */
    }
    vnm_redis_get_stats(vnm_daemon_redis(a->daemon), &stats);
    if (stats.n_connects != a->n_connects) {
        /* A first or new connection: what this consumer was delivered
         * and did not acknowledge comes first, then others' leftovers. */
        a->n_connects = stats.n_connects;
        for (size_t i = 0; i < a->n_streams; i++) {
            struct stream *s = &a->streams[i];

            s->reread = true;
            vnm_strlcpy(s->pending_cursor, "0", sizeof s->pending_cursor);
            s->next_claim_ms = now;
        }
    }
    net_sync_run(a->net_sync, vnm_daemon_redis(a->daemon),  /* tenancy */
                 vnm_time_wall_ms(), false);
    if (now >= a->next_discover_ms) {
        discover_streams(a);
        a->next_discover_ms = now + DISCOVER_MS;
    }
    bool more = false;

    for (size_t i = 0; i < a->n_streams; i++) {
        more |= read_stream(a, &a->streams[i], now);
    }
    if (more) {
        /* A backlog: poll again as soon as the loop has served the rest
         * (timers, signals, the heartbeat). */
        event_active(a->poll_ev, EV_TIMEOUT, 0);
    }
}

/* Opens the archive.  Returns 0 or an errno value (logged, rate-limited,
 * and counted). */
static int
archive_open(struct analyzer *a)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(6, 3);
    struct stat st;
    int error;
    int fd;

    fd = open(a->archive_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
              0640);
    if (fd < 0) {
        error = errno;
    } else if (fstat(fd, &st)) {
        error = errno;
        close(fd);
    } else if (!S_ISREG(st.st_mode)) {
        error = EINVAL;
        close(fd);
    } else {
        if (a->archive_broken) {
            VNM_INFO("archive %s: open again", a->archive_path);
            a->archive_broken = false;
        }
        a->archive_fd = fd;
        return 0;
    }
    VNM_COUNTER_INC(archive_errors);
    VNM_WARN_RL(&rl, "archive %s: cannot open for appending (%s)",
                a->archive_path,
                error == EINVAL ? "not a regular file" : strerror(error));
    a->archive_broken = true;
    return error;
}

/* Appends 'record' and a newline to the archive, in one write(). */
static void
archive_append(struct analyzer *a, const char *record)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(6, 3);
    size_t len = strlen(record);
    char *line;
    ssize_t n;

    if (a->archive_fd < 0 && archive_open(a)) {
        return;
    }
    line = xmalloc(len + 1);
    memcpy(line, record, len);
    line[len] = '\n';
    n = write(a->archive_fd, line, len + 1);
    free(line);
    if (n == (ssize_t) len + 1) {
        VNM_COUNTER_INC(archive_records);
        return;
    }
    VNM_COUNTER_INC(archive_errors);
    VNM_WARN_RL(&rl, "archive %s: cannot append a record (%s)",
                a->archive_path,
                n < 0 ? strerror(errno) : "short write");
    if (n > 0 && write(a->archive_fd, "\n", 1) != 1) {
        /* The next line would continue the partial one; the file is not
         * rewritten, so the damage stays one line. */
    }
    close(a->archive_fd);
    a->archive_fd = -1;
    a->archive_broken = true;
}

/* Reopens the archive at the next record if it was moved or deleted. */
static void
archive_check(struct analyzer *a)
{
    struct stat by_path, by_fd;

    if (a->archive_fd >= 0 && !fstat(a->archive_fd, &by_fd)
        && (stat(a->archive_path, &by_path)
            || by_path.st_dev != by_fd.st_dev
            || by_path.st_ino != by_fd.st_ino)) {
        VNM_INFO("archive %s: moved or deleted, reopening", a->archive_path);
        close(a->archive_fd);
        a->archive_fd = -1;
    }
}

/* Hands 'alert' to every sink whose route takes it, through its spool:
 * when this returns, it was delivered or spooled (fsync'd) for each. */
static void
deliver(struct analyzer *a, const struct vnm_alert *alert)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(6, 3);
    uint64_t now = vnm_time_mono_ms();

    for (size_t i = 0; i < a->n_sinks; i++) {
        struct sink *s = &a->sinks[i];
        int error;

        if (!s->spool || !route_wants(s->route, alert)) {
            continue;
        }
        error = spool_submit(s->spool, alert, now);
        if (!error) {
            VNM_COUNTER_INC(alerts_delivered);
        } else if (error == EAGAIN) {
            VNM_COUNTER_INC(alerts_deferred);
        } else {
            VNM_COUNTER_INC(alerts_failed);
            VNM_WARN_RL(&rl, "sink \"%s\" could not deliver incident %s (%s)",
                        s->name, alert->id ? alert->id : "?",
                        strerror(error));
        }
    }
}

/* Reads the route of every [sink "NAME"] section of 'config', before the
 * loader loads the plugins: the keys are the host's, the plugins never ask
 * for them.  Returns NULL or an error naming file, line and key. */
static char *
sinks_configure(struct analyzer *a, const struct vnm_config *config)
{
    for (const struct vnm_conf *c = vnm_config_next(config, NULL); c;
         c = vnm_config_next(config, c)) {
        struct route *route;
        char *error;

        if (strcmp(vnm_conf_kind(c), "sink") || !vnm_conf_name(c)) {
            continue;
        }
        error = route_create(c, &route);
        if (error) {
            return error;
        }
        a->sinks = xrealloc(a->sinks, (a->n_sinks + 1) * sizeof *a->sinks);
        a->sinks[a->n_sinks++] = (struct sink) {
            .name = vnm_conf_name(c),
            .route = route,
        };
    }
    return NULL;
}

/* Gives each loaded sink its spool.  Returns NULL or an error. */
static char *
sinks_start(struct analyzer *a, struct vnm_daemon *d)
{
    struct vnm_loader *loader = vnm_daemon_loader(d);

    for (size_t i = 0; i < a->n_sinks; i++) {
        struct sink *s = &a->sinks[i];

        for (size_t j = 0; j < vnm_loader_count(loader) && !s->inst; j++) {
            struct vnm_plugin_instance *inst = vnm_loader_get(loader, j);

            if (inst->desc->kind == VNM_PLUGIN_SINK
                && !strcmp(inst->name, s->name)) {
                s->inst = inst;
            }
        }
        if (s->inst) {
            char *error = spool_create(&a->spool_opts, s->name,
                                       s->inst->desc->sink->deliver,
                                       s->inst->state, &s->spool);

            if (error) {
                return error;
            }
        }
    }
    return NULL;
}

/* Frees the sinks' spools (after stop, or a failed start) and routes. */
static void
sinks_destroy(struct analyzer *a)
{
    for (size_t i = 0; i < a->n_sinks; i++) {
        spool_destroy(a->sinks[i].spool);
        route_destroy(a->sinks[i].route);
    }
    free(a->sinks);
    a->sinks = NULL;
    a->n_sinks = 0;
}

/* The incident store's delivery callback: the archive, then the sinks. */
static void
analyzer_deliver(void *a_, const struct vnm_alert *alert)
{
    struct analyzer *a = a_;

    archive_append(a, alert->json);
    deliver(a, alert);
    auto_quarantine_on_alert(a->aq, vnm_daemon_redis(a->daemon), alert);
}

/* host->emit_alert() of detectors. */
static int
analyzer_emit(void *a_, struct vnm_plugin_instance *detector,
              const struct vnm_alert *emitted)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(6, 3);
    struct analyzer *a = a_;
    struct vnm_alert alert;
    int error;

    VNM_COUNTER_INC(alerts_emitted);
    if (!a->store) {
        return EAGAIN;          /* Emitted from init(), before start. */
    }
    alert = *emitted;
    alert.host_id = (emitted->flow && emitted->flow->host[0]
                     ? emitted->flow->host : NULL);
    alert.detector = detector->name;
    alert.tenant = (emitted->vm && emitted->vm->tenant[0]
                    ? emitted->vm->tenant : NULL);
    error = incident_store_merge(a->store, &alert, vnm_time_wall_ms());
    if (error == EINVAL) {
        VNM_COUNTER_INC(alerts_rejected);
        VNM_WARN_RL(&rl, "detector \"%s\" emitted an alert without a valid "
                    "type ([a-z0-9-], at most 64), key or summary",
                    detector->name);
    } else if (error) {
        /* Not stored: the flow record stays pending, to be read again. */
        VNM_COUNTER_INC(alerts_store_failed);
        a->store_failed = true;
    }
    return error;
}

static char *
analyzer_configure(void *a_, struct vnm_daemon *d,
                   const struct vnm_config *config)
{
    const struct vnm_conf *own = vnm_config_section(config, "analyzer", NULL);
    const int64_t day_ms = INT64_C(86400000);
    int64_t idle, max_open, interval, retention;
    int64_t spool_max, retry_min, retry_max;
    struct analyzer *a = a_;
    char *error;

    a->daemon = d;
    a->archive_fd = -1;
    if ((error = vnm_conf_get_duration(own, "incident_idle", 300000, 1000,
                                       day_ms * 30, &idle))
        || (error = vnm_conf_get_int(own, "max_incidents", 10000, 1,
                                     10000000, &max_open))
        || (error = vnm_conf_get_duration(own, "update_interval", 10000, 0,
                                          day_ms, &interval))
        || (error = vnm_conf_get_duration(own, "retention", day_ms * 180,
                                          day_ms * 180, day_ms * 36500,
                                          &retention))
        || (error = vnm_conf_get_string(own, "archive",
                                        "/var/lib/vnmon/incidents.jsonl",
                                        &a->archive_path))
        || (error = vnm_conf_get_string(own, "group", "vnmon-analyzers",
                                        &a->group))
        || (error = vnm_conf_get_string(own, "consumer", "",
                                        &a->consumer_conf))
        || (error = vnm_conf_get_int(own, "batch", 1000, 1, 100000,
                                     &a->batch))
        || (error = vnm_conf_get_string(own, "spool", "/var/lib/vnmon/spool",
                                        &a->spool_opts.dir))
        || (error = vnm_conf_get_int(own, "spool_max", 100000, 1, 100000000,
                                     &spool_max))
        || (error = vnm_conf_get_duration(own, "retry_min", 1000, 10, day_ms,
                                          &retry_min))
        || (error = vnm_conf_get_duration(own, "retry_max", 300000, 10,
                                          day_ms, &retry_max))) {
        return error;
    }
    if (!a->spool_opts.dir[0]) {
        return vnm_conf_error(own, "spool", "must name a directory");
    }
    if (retry_max < retry_min) {
        return vnm_conf_error(own, "retry_max", "must not be less than "
                              "retry_min");
    }
    a->spool_opts.max = (uint64_t) spool_max;
    a->spool_opts.retry_min_ms = (uint64_t) retry_min;
    a->spool_opts.retry_max_ms = (uint64_t) retry_max;
    error = sinks_configure(a, config);
    if (error) {
        return error;
    }
    if (!a->group[0] || strpbrk(a->group, " \t")) {
        return vnm_conf_error(own, "group", "\"%s\": must be non-empty, "
                              "without spaces", a->group);
    }
    if (strpbrk(a->consumer_conf, " \t")) {
        return vnm_conf_error(own, "consumer", "\"%s\": must be without "
                              "spaces", a->consumer_conf);
    }
    if (!a->archive_path[0]) {
        return vnm_conf_error(own, "archive", "must name a file");
    }
    a->store_opts = (struct incident_store_options) {
        .idle_ms = (uint64_t) idle,
        .update_interval_ms = (uint64_t) interval,
        .retention_ms = (uint64_t) retention,
        .max_open = (uint64_t) max_open,
        .events_maxlen = 10000,
    };
    auto_quarantine_destroy(a->aq);
    a->aq = NULL;
    if ((error = auto_quarantine_configure(config, &a->aq))) {
        return error;
    }
    /* tenancy */
    return tenancy_configure(a->tenancy, config);
}

static char *
analyzer_start(void *a_, struct vnm_daemon *d)
{
    struct analyzer *a = a_;

    struct timeval tv = { 0, POLL_MS * 1000 };
    char *error = sinks_start(a, d);

    if (error) {
        return error;
    }
    a->store = incident_store_create(vnm_daemon_redis(d), &a->store_opts,
                                     analyzer_deliver, a);
    /* Stable across restarts, so that a restarted analyzer finds the
     * entries it was delivered and did not acknowledge. */
    a->consumer = xstrdup(a->consumer_conf[0] ? a->consumer_conf
                          : vnm_daemon_host_id(d));
    a->poll_ev = event_new(vnm_daemon_event_base(d), -1, EV_PERSIST,
                           poll_cb, a);
    event_add(a->poll_ev, &tv);
    return NULL;
}

static void
analyzer_tick(void *a_, struct vnm_daemon *d, uint64_t now_ms)
{
    struct vnm_loader *loader = vnm_daemon_loader(d);
    struct analyzer *a = a_;

    for (size_t i = 0; i < vnm_loader_count(loader); i++) {
        struct vnm_plugin_instance *inst = vnm_loader_get(loader, i);

        if (inst->desc->kind == VNM_PLUGIN_DETECTOR
            && inst->desc->detector->on_tick) {
            inst->desc->detector->on_tick(inst->state, now_ms);
        } else if (inst->desc->kind == VNM_PLUGIN_SINK
                   && inst->desc->sink->on_tick) {
            inst->desc->sink->on_tick(inst->state, now_ms);
        }
    }
    for (size_t i = 0; i < a->n_sinks; i++) {
        if (a->sinks[i].spool) {
            spool_run(a->sinks[i].spool, vnm_time_mono_ms(),
                      RETRY_BUDGET_MS);
        }
    }
    if (a->store && vnm_redis_is_connected(vnm_daemon_redis(d))) {
        incident_store_tick(a->store, now_ms);
    }
    archive_check(a);
}

static void
analyzer_status(void *a_, struct vnm_daemon *d, json_t *status)
{
    struct analyzer *a = a_;
    struct incident_store_stats stats = { .n_open = 0 };

    if (a->store) {
        incident_store_get_stats(a->store, &stats);
    }
    json_object_set_new(status, "open_incidents",
                        json_integer((json_int_t) stats.n_open));
    json_object_set_new(status, "consumer",
                        json_pack("{s:s, s:s?}", "group", a->group,
                                  "name", a->consumer));

    /* Per sink: deliveries pending in its spool, and the wall-clock time
     * of the next retry (null when none is pending). */
    json_t *sinks = json_object();
    uint64_t mono = vnm_time_mono_ms(), wall = vnm_time_wall_ms();

    for (size_t i = 0; i < a->n_sinks; i++) {
        const struct spool *spool = a->sinks[i].spool;
        size_t pending = spool ? spool_pending(spool) : 0;
        uint64_t next = spool ? spool_next_retry(spool) : 0;

        json_object_set_new(
            sinks, a->sinks[i].name,
            json_pack("{s:I, s:o}", "pending", (json_int_t) pending,
                      "next_retry_ms",
                      (pending
                       ? json_integer((json_int_t) (next > mono
                                                    ? wall + next - mono
                                                    : wall))
                       : json_null())));
    }
    json_object_set_new(status, "spool",
                        json_pack("{s:s, s:o}", "dir", a->spool_opts.dir,
                                  "sinks", sinks));
}

static void
analyzer_stop(void *a_, struct vnm_daemon *d)
{
    struct analyzer *a = a_;

    if (a->poll_ev) {
        event_free(a->poll_ev);
        a->poll_ev = NULL;
    }
    for (size_t i = 0; i < a->n_streams; i++) {
        free(a->streams[i].key);
    }
    free(a->streams);
    a->streams = NULL;
    a->n_streams = 0;
    free(a->consumer);
    a->consumer = NULL;
    incident_store_destroy(a->store);
    a->store = NULL;
    for (size_t i = 0; i < a->n_sinks; i++) {
        spool_destroy(a->sinks[i].spool);
        a->sinks[i].spool = NULL;
        a->sinks[i].inst = NULL;
    }
    if (a->archive_fd >= 0) {
        close(a->archive_fd);
        a->archive_fd = -1;
    }
}

int
main(int argc, char *argv[])
{
    static const char *const named[] = { "detector", "sink", "protected",
                                         "allow", NULL };
    static const char *const sections[] = { "tenancy", "policy",
                                            "quarantine", NULL };
    static struct vnm_daemon_spec spec = {
        .name = "analyzer",
        .summary = "run detector plugins on flow records and deliver "
                   "incidents to alert sinks",
        .sections = sections,
        .named_sections = named,
        .plugin_kinds = (1u << VNM_PLUGIN_DETECTOR) | (1u << VNM_PLUGIN_SINK),
        .emit = analyzer_emit,
        .configure = analyzer_configure,
        .start = analyzer_start,
        .tick = analyzer_tick,
        .status = analyzer_status,
        .stop = analyzer_stop,
    };
    struct analyzer a = { .daemon = NULL };
    int status;

    a.tenancy = tenancy_create();                       /* tenancy */
    a.net_sync = net_sync_create(a.tenancy);
    spec.net = tenancy_net_ops(a.tenancy);
    status = vnm_daemon_main(&spec, &a, argc, argv);
    sinks_destroy(&a);
    auto_quarantine_destroy(a.aq);
    net_sync_destroy(a.net_sync);
    tenancy_destroy(a.tenancy);
    return status;
}
