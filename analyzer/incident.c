/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The incident store: see incident.h.  All the logic that must be atomic
 * lives in one Lua script, loaded with SCRIPT LOAD and run with EVALSHA
 * (loaded again after a NOSCRIPT error: a restarted or flushed Redis);
 * this file builds its arguments and hands what it returns to the
 * analyzer.
 *
 * The script's operations (ARGV[1]) share ARGV[2..8]: now (ms), now as
 * ISO 8601, update interval, idle time, retention (ms), events stream
 * length, most open incidents.  Then:
 *
 *   merge    TYPE KEY SEVERITY PACKETS BYTES PREFIX DETAIL
 *   flush    INCIDENT-KEY   (deliver a pending update if due)
 *   resolve  INCIDENT-KEY   (resolve it if it is idle)
 *
 * Each returns an array of deliveries {RECORD, DELIVER}: for a merge, its
 * incident first (DELIVER 0 if the update was only stored), then the
 * incidents it resolved on the way (the incident of the same type and key
 * found idle, the oldest ones past 'max_open').
 *
 * Only global keys ("vnm:alerts...") decide what a script writes: the
 * incident hashes and tenant indexes live under "vnm:t:TENANT:", which
 * tenants may read; a prefix is taken from the incident key's name, and
 * the open map is only cleared for the incident it points to.
 */
#include <config.h>

#include "analyzer/incident.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer/alert-record.h"
#include "lib/bw-series.h"
#include "lib/counter.h"
#include "lib/log.h"
#include "lib/redis.h"
#include "lib/util.h"
#include "vnmon/alert.h"

VNM_LOG_MODULE(incident);

/* Incidents flushed or resolved per tick, at most. */
#define TICK_BATCH 100

static const char script[] =
"local OPEN, SEQ, ALL = 'vnm:alerts:open', 'vnm:alerts:seq', 'vnm:alerts'\n"
"local ACTIVE, DUE = 'vnm:alerts:active', 'vnm:alerts:due'\n"
"local EVENTS = 'vnm:alerts:events'\n"
"local SEV = {[0] = 'info', 'low', 'medium', 'high', 'critical'}\n"
"local op, now_s, now_iso = ARGV[1], ARGV[2], ARGV[3]\n"
"local now = tonumber(now_s)\n"
"local interval, idle = tonumber(ARGV[4]), tonumber(ARGV[5])\n"
"local retention, maxlen = tonumber(ARGV[6]), ARGV[7]\n"
"local max_open = tonumber(ARGV[8])\n"
"\n"
"local function n(x) return tonumber(x) or 0 end\n"
"local function int(x) return string.format('%d', x) end\n"
"\n"
"-- 'vnm:t:TENANT:' or 'vnm:', from the name of an incident key.\n"
"local function prefix_of(ikey)\n"
"  return string.match(ikey, '^(vnm:t:[^:]+:)alert:[^:]+$') or 'vnm:'\n"
"end\n"
"\n"
"local function load(ikey)\n"
"  local flat = redis.call('HGETALL', ikey)\n"
"  if #flat == 0 then return nil end\n"
"  local h = {}\n"
"  for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end\n"
"  return h\n"
"end\n"
"\n"
"-- The record: as alert_record_join() writes it.\n"
"local function record(h, state)\n"
"  return '{\"id\":\"' .. h.id .. '\",\"type\":\"' .. h.type\n"
"    .. '\",\"severity\":\"' .. (SEV[n(h.severity)] or 'info')\n"
"    .. '\",\"state\":\"' .. state\n"
"    .. '\",\"first_seen\":\"' .. h.first_seen\n"
"    .. '\",\"last_seen\":\"' .. h.last_seen\n"
"    .. '\",\"first_ms\":' .. h.first_ms .. ',\"last_ms\":' .. h.last_ms\n"
"    .. ',\"count\":' .. h.count .. ',\"packets\":' .. h.packets\n"
"    .. ',\"bytes\":' .. h.bytes .. ',\"updates\":' .. h.n_updates\n"
"    .. ',' .. h.detail .. '}'\n"
"end\n"
"\n"
"-- Stores 'rec' as the record of 'ikey', indexes it by its last time,\n"
"-- sets its expiry and trims the indexes.\n"
"local function store(ikey, h, rec)\n"
"  local horizon = '(' .. int(now - retention)\n"
"  local p = prefix_of(ikey)\n"
"  redis.call('HSET', ikey, 'record', rec)\n"
"  redis.call('PEXPIREAT', ikey, int(n(h.last_ms) + retention))\n"
"  redis.call('ZADD', ALL, h.last_ms, ikey)\n"
"  redis.call('ZREMRANGEBYSCORE', ALL, '-inf', horizon)\n"
"  if p ~= 'vnm:' then\n"
"    redis.call('ZADD', p .. 'alerts', h.last_ms, ikey)\n"
"    redis.call('ZREMRANGEBYSCORE', p .. 'alerts', '-inf', horizon)\n"
"  end\n"
"end\n"
"\n"
"local function event(ikey, rec)\n"
"  local p = prefix_of(ikey)\n"
"  redis.call('XADD', EVENTS, 'MAXLEN', '~', maxlen, '*', 'r', rec)\n"
"  if p ~= 'vnm:' then\n"
"    redis.call('XADD', p .. 'alerts:events', 'MAXLEN', '~', maxlen, '*',\n"
"                'r', rec)\n"
"  end\n"
"end\n"
"\n"
"-- Resolves open incident 'ikey'; returns its record, or nil if it was\n"
"-- not open.\n"
"local function resolve(ikey)\n"
"  local h = load(ikey)\n"
"  redis.call('ZREM', ACTIVE, ikey)\n"
"  redis.call('ZREM', DUE, ikey)\n"
"  if not h or h.state ~= 'open' or not h.id then return nil end\n"
"  redis.call('HSET', ikey, 'state', 'resolved', 'pending', '0')\n"
"  if h.field and redis.call('HGET', OPEN, h.field) == ikey then\n"
"    redis.call('HDEL', OPEN, h.field)\n"
"  end\n"
"  local rec = record(h, 'resolved')\n"
"  store(ikey, h, rec)\n"
"  event(ikey, rec)\n"
"  return rec\n"
"end\n"
"\n"
"if op == 'merge' then\n"
"  local kind, key, sev = ARGV[9], ARGV[10], ARGV[11]\n"
"  local packets, bytes = ARGV[12], ARGV[13]\n"
"  local prefix, detail = ARGV[14], ARGV[15]\n"
"  if not string.match(prefix, '^vnm:t:[^:]+:$') and prefix ~= 'vnm:' then\n"
"    return redis.error_reply('ERR bad incident prefix')\n"
"  end\n"
"  local field = kind .. '\\31' .. key\n"
"  local out = {false}\n"
"  local ikey = redis.call('HGET', OPEN, field)\n"
"  if ikey then\n"
"    local st = redis.call('HMGET', ikey, 'state', 'last_ms')\n"
"    if st[1] ~= 'open' then\n"
"      redis.call('HDEL', OPEN, field)\n"
"      redis.call('ZREM', ACTIVE, ikey)\n"
"      redis.call('ZREM', DUE, ikey)\n"
"      ikey = false\n"
"    elseif n(st[2]) + idle <= now then\n"
"      local rec = resolve(ikey)\n"
"      if rec then out[#out + 1] = {rec, 1} end\n"
"      ikey = false\n"
"    end\n"
"  end\n"
"  local h, state, deliver\n"
"  if not ikey then\n"
"    while redis.call('ZCARD', ACTIVE) >= max_open do\n"
"      local rec = resolve(redis.call('ZRANGE', ACTIVE, 0, 0)[1])\n"
"      if rec then out[#out + 1] = {rec, 1} end\n"
"    end\n"
"    h = {id = 'inc-' .. int(redis.call('INCR', SEQ)), type = kind,\n"
"         key = key, field = field, severity = sev, state = 'open',\n"
"         first_ms = now_s, last_ms = now_s, first_seen = now_iso,\n"
"         last_seen = now_iso, count = '1', packets = packets,\n"
"         bytes = bytes, n_updates = '0', delivered_ms = now_s,\n"
"         pending = '0', detail = detail}\n"
"    ikey = prefix .. 'alert:' .. h.id\n"
"    redis.call('HSET', ikey, 'id', h.id, 'type', h.type, 'key', h.key,\n"
"               'field', h.field, 'severity', h.severity,\n"
"               'state', h.state, 'first_ms', h.first_ms,\n"
"               'last_ms', h.last_ms, 'first_seen', h.first_seen,\n"
"               'last_seen', h.last_seen, 'count', h.count,\n"
"               'packets', h.packets, 'bytes', h.bytes,\n"
"               'n_updates', h.n_updates, 'delivered_ms', h.delivered_ms,\n"
"               'pending', h.pending, 'detail', h.detail)\n"
"    redis.call('HSET', OPEN, field, ikey)\n"
"    state, deliver = 'open', 1\n"
"  else\n"
"    h = load(ikey)\n"
"    h.count = int(redis.call('HINCRBY', ikey, 'count', 1))\n"
"    h.packets = int(redis.call('HINCRBY', ikey, 'packets', packets))\n"
"    h.bytes = int(redis.call('HINCRBY', ikey, 'bytes', bytes))\n"
"    if now > n(h.last_ms) then\n"
"      h.last_ms, h.last_seen = now_s, now_iso\n"
"    end\n"
"    if n(sev) > n(h.severity) then h.severity = sev end\n"
"    h.detail = detail\n"
"    state = 'update'\n"
"    if now >= n(h.delivered_ms) + interval then\n"
"      h.n_updates = int(n(h.n_updates) + 1)\n"
"      h.delivered_ms, h.pending, deliver = now_s, '0', 1\n"
"      redis.call('ZREM', DUE, ikey)\n"
"    else\n"
"      h.pending, deliver = '1', 0\n"
"      redis.call('ZADD', DUE, int(n(h.delivered_ms) + interval), ikey)\n"
"    end\n"
"    redis.call('HSET', ikey, 'last_ms', h.last_ms,\n"
"               'last_seen', h.last_seen, 'severity', h.severity,\n"
"               'detail', h.detail, 'n_updates', h.n_updates,\n"
"               'delivered_ms', h.delivered_ms, 'pending', h.pending)\n"
"  end\n"
"  redis.call('ZADD', ACTIVE, h.last_ms, ikey)\n"
"  local rec = record(h, state)\n"
"  store(ikey, h, rec)\n"
"  if deliver == 1 then event(ikey, rec) end\n"
"  out[1] = {rec, deliver}\n"
"  return out\n"
"elseif op == 'flush' then\n"
"  local ikey = ARGV[9]\n"
"  local h = load(ikey)\n"
"  if not h or h.state ~= 'open' or h.pending ~= '1' then\n"
"    redis.call('ZREM', DUE, ikey)\n"
"    return {}\n"
"  end\n"
"  local due = n(h.delivered_ms) + interval\n"
"  if now < due then\n"
"    redis.call('ZADD', DUE, int(due), ikey)\n"
"    return {}\n"
"  end\n"
"  h.n_updates = int(n(h.n_updates) + 1)\n"
"  h.delivered_ms, h.pending = now_s, '0'\n"
"  redis.call('HSET', ikey, 'n_updates', h.n_updates,\n"
"             'delivered_ms', h.delivered_ms, 'pending', h.pending)\n"
"  redis.call('ZREM', DUE, ikey)\n"
"  local rec = record(h, 'update')\n"
"  store(ikey, h, rec)\n"
"  event(ikey, rec)\n"
"  return {{rec, 1}}\n"
"elseif op == 'resolve' then\n"
"  local ikey = ARGV[9]\n"
"  local st = redis.call('HMGET', ikey, 'state', 'last_ms')\n"
"  if st[1] == 'open' and n(st[2]) + idle > now then\n"
"    redis.call('ZADD', ACTIVE, st[2], ikey)\n"
"    return {}\n"
"  end\n"
"  local rec = resolve(ikey)\n"
"  if rec then return {{rec, 1}} end\n"
"  return {}\n"
"end\n"
"return redis.error_reply('ERR unknown operation')\n";

VNM_COUNTER_DEFINE(incident_merges);
VNM_COUNTER_DEFINE(incidents_opened);
VNM_COUNTER_DEFINE(incident_updates);
VNM_COUNTER_DEFINE(incident_updates_suppressed);
VNM_COUNTER_DEFINE(incidents_resolved);
VNM_COUNTER_DEFINE(incident_store_errors);

struct incident_store {
    struct vnm_redis *redis;
    struct incident_store_options opts;
    incident_deliver_func *deliver;
    void *aux;
    char sha[41];               /* Of the loaded script, "" if not yet. */
    struct incident_store_stats stats;
};

struct incident_store *
incident_store_create(struct vnm_redis *redis,
                      const struct incident_store_options *options,
                      incident_deliver_func *deliver, void *aux)
{
    struct incident_store *s = xzalloc(sizeof *s);

    s->redis = redis;
    s->opts = *options;
    if (!s->opts.max_open) {
        s->opts.max_open = 1;
    }
    s->deliver = deliver;
    s->aux = aux;
    return s;
}

void
incident_store_destroy(struct incident_store *s)
{
    free(s);
}

void
incident_store_get_stats(const struct incident_store *s,
                         struct incident_store_stats *stats)
{
    *stats = s->stats;
}

char *
incident_key(const char *tenant, const char *id)
{
    char *esc, *key;

    if (!tenant || !tenant[0]) {
        return xasprintf("vnm:alert:%s", id);
    }
    esc = bw_escape(tenant);
    key = xasprintf("vnm:t:%s:alert:%s", esc, id);
    free(esc);
    return key;
}

/* Notes a failed call. */
static int
store_error(struct incident_store *s, int error, const char *what,
            const char *why)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(6, 3);

    s->stats.n_errors++;
    VNM_COUNTER_INC(incident_store_errors);
    if (error != ENOTCONN) {
        VNM_WARN_RL(&rl, "incident store: %s failed (%s)", what,
                    why ? why : strerror(error));
    }
    return error;
}

/* Loads the script into Redis.  Returns 0 or an errno value. */
static int
load_script(struct incident_store *s)
{
    json_t *reply = NULL;
    int error;

    error = vnm_redis_query(s->redis, &reply, "SCRIPT LOAD %s", script);
    if (!error && (!json_is_string(reply)
                   || strlen(json_string_value(reply)) != 40)) {
        error = EPROTO;
    }
    if (error) {
        error = store_error(s, error, "SCRIPT LOAD",
                            json_string_value(reply));
    } else {
        memcpy(s->sha, json_string_value(reply), sizeof s->sha);
    }
    json_decref(reply);
    return error;
}

/* Runs operation 'op' of the script with the common arguments for
 * 'now_ms' and the 'n_args' arguments 'args', and stores its array of
 * deliveries into '*deliveriesp'.  Returns 0 or an errno value. */
static int
run_script(struct incident_store *s, const char *op, uint64_t now_ms,
           size_t n_args, const char *const *args, json_t **deliveriesp)
{
    char now[24], now_iso[32], interval[24], idle[24], retention[24];
    char maxlen[24], max_open[24];
    const char *argv[16 + 8];
    json_t *replies = NULL, *reply;
    int argc = 0;
    int error;

    *deliveriesp = NULL;
    vnm_assert(n_args <= 8);
    if (!s->sha[0] && (error = load_script(s))) {
        return error;
    }
    snprintf(now, sizeof now, "%"PRIu64, now_ms);
    vnm_format_time(now_ms, now_iso, sizeof now_iso);
    snprintf(interval, sizeof interval, "%"PRIu64,
             s->opts.update_interval_ms);
    snprintf(idle, sizeof idle, "%"PRIu64, s->opts.idle_ms);
    snprintf(retention, sizeof retention, "%"PRIu64, s->opts.retention_ms);
    snprintf(maxlen, sizeof maxlen, "%"PRIu64, s->opts.events_maxlen);
    snprintf(max_open, sizeof max_open, "%"PRIu64, s->opts.max_open);
    argv[argc++] = "EVALSHA";
    argv[argc++] = s->sha;
    argv[argc++] = "0";
    argv[argc++] = op;
    argv[argc++] = now;
    argv[argc++] = now_iso;
    argv[argc++] = interval;
    argv[argc++] = idle;
    argv[argc++] = retention;
    argv[argc++] = maxlen;
    argv[argc++] = max_open;
    for (size_t i = 0; i < n_args; i++) {
        argv[argc++] = args[i];
    }

    for (int attempt = 0; ; attempt++) {
        const char *const *argvs[1] = { argv };

        error = vnm_redis_query_batch(s->redis, 1, &argc, argvs, &replies);
        if (error) {
            return store_error(s, error, op, NULL);
        }
        reply = json_array_get(replies, 0);
        if (json_is_array(reply)) {
            break;
        }
        /* A string is an error reply: the script is not loaded (a
         * restarted or flushed Redis), or it failed. */
        if (attempt == 0 && json_is_string(reply)
            && !strncmp(json_string_value(reply), "NOSCRIPT", 8)) {
            json_decref(replies);
            replies = NULL;
            if ((error = load_script(s))) {
                return error;
            }
            continue;
        }
        error = store_error(s, EIO, op, json_string_value(reply));
        json_decref(replies);
        return error;
    }
    *deliveriesp = json_incref(reply);
    json_decref(replies);
    return 0;
}

/* Delivers record 'text' as it is. */
static void
deliver_record(struct incident_store *s, const char *text)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(6, 3);
    struct alert_record_view view;

    if (alert_record_parse(text, &view)) {
        VNM_WARN_RL(&rl, "incident store: unreadable record %.80s", text);
        return;
    }
    if (view.alert.state == VNM_ALERT_RESOLVED) {
        s->stats.n_resolved++;
        VNM_COUNTER_INC(incidents_resolved);
    } else if (view.alert.state == VNM_ALERT_UPDATE) {
        s->stats.n_updates++;
        VNM_COUNTER_INC(incident_updates);
    }
    s->deliver(s->aux, &view.alert);
    alert_record_view_uninit(&view);
}

/* Delivers the merge's own record 'text' for the emission 'emitted'. */
static void
deliver_emitted(struct incident_store *s, const struct vnm_alert *emitted,
                const char *text)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(6, 3);
    struct alert_record_view view;
    struct vnm_alert alert;

    if (alert_record_parse(text, &view)) {
        VNM_WARN_RL(&rl, "incident store: unreadable record %.80s", text);
        return;
    }
    if (view.alert.state == VNM_ALERT_OPEN) {
        s->stats.n_opened++;
        VNM_COUNTER_INC(incidents_opened);
    } else {
        s->stats.n_updates++;
        VNM_COUNTER_INC(incident_updates);
    }
    alert = *emitted;
    alert.severity = view.alert.severity;
    alert.id = view.alert.id;
    alert.first_ms = view.alert.first_ms;
    alert.last_ms = view.alert.last_ms;
    alert.count = view.alert.count;
    alert.total_packets = view.alert.total_packets;
    alert.total_bytes = view.alert.total_bytes;
    alert.n_updates = view.alert.n_updates;
    alert.state = view.alert.state;
    alert.json = text;
    s->deliver(s->aux, &alert);
    alert_record_view_uninit(&view);
}

/* Delivers what the script returned: 'deliveries', whose first one is
 * the record of 'emitted' if it is not null. */
static void
deliver_all(struct incident_store *s, const json_t *deliveries,
            const struct vnm_alert *emitted)
{
    const json_t *d;
    size_t i;

    json_array_foreach (deliveries, i, d) {
        const char *text = json_string_value(json_array_get(d, 0));
        json_int_t flag = json_integer_value(json_array_get(d, 1));

        if (!text) {
            continue;
        }
        if (i == 0 && emitted) {
            if (flag) {
                deliver_emitted(s, emitted, text);
            } else {
                s->stats.n_suppressed++;
                VNM_COUNTER_INC(incident_updates_suppressed);
            }
        } else if (flag) {
            deliver_record(s, text);
        }
    }
}

int
incident_store_merge(struct incident_store *s, const struct vnm_alert *alert,
                     uint64_t now_ms)
{
    char severity[8], packets[24], bytes[24];
    const char *args[7];
    json_t *deliveries;
    char *prefix, *detail;
    int error;

    if (!alert_record_kind_valid(alert->kind) || !alert->key
        || !alert->summary) {
        return EINVAL;
    }
    snprintf(severity, sizeof severity, "%d",
             (alert->severity >= VNM_SEV_INFO
              && alert->severity <= VNM_SEV_CRITICAL
              ? (int) alert->severity : (int) VNM_SEV_CRITICAL));
    snprintf(packets, sizeof packets, "%"PRIu64, alert->packets);
    snprintf(bytes, sizeof bytes, "%"PRIu64, alert->bytes);
    if (alert->tenant && alert->tenant[0]) {
        char *esc = bw_escape(alert->tenant);

        prefix = xasprintf("vnm:t:%s:", esc);
        free(esc);
    } else {
        prefix = xstrdup("vnm:");
    }
    detail = alert_record_detail(alert);
    args[0] = alert->kind;
    args[1] = alert->key;
    args[2] = severity;
    args[3] = packets;
    args[4] = bytes;
    args[5] = prefix;
    args[6] = detail;
    error = run_script(s, "merge", now_ms, VNM_ARRAY_SIZE(args), args,
                       &deliveries);
    free(prefix);
    free(detail);
    if (error) {
        return error;
    }
    s->stats.n_merges++;
    VNM_COUNTER_INC(incident_merges);
    deliver_all(s, deliveries, alert);
    json_decref(deliveries);
    return 0;
}

/* Runs 'op' on each incident key of 'keys'. */
static int
run_on_keys(struct incident_store *s, const char *op, const json_t *keys,
            uint64_t now_ms)
{
    const json_t *key;
    size_t i;

    json_array_foreach (keys, i, key) {
        const char *args[1] = { json_string_value(key) };
        json_t *deliveries;
        int error;

        if (!args[0]) {
            continue;
        }
        error = run_script(s, op, now_ms, 1, args, &deliveries);
        if (error) {
            return error;
        }
        deliver_all(s, deliveries, NULL);
        json_decref(deliveries);
    }
    return 0;
}

int
incident_store_tick(struct incident_store *s, uint64_t now_ms)
{
    json_t *keys = NULL, *count = NULL;
    int error;

    /* Pending updates whose interval has ended. */
    error = vnm_redis_query(s->redis, &keys, "ZRANGEBYSCORE vnm:alerts:due "
                            "-inf %"PRIu64" LIMIT 0 %d", now_ms, TICK_BATCH);
    if (!error) {
        error = run_on_keys(s, "flush", keys, now_ms);
    } else {
        error = store_error(s, error, "ZRANGEBYSCORE",
                            json_string_value(keys));
    }
    json_decref(keys);
    keys = NULL;
    if (error) {
        return error;
    }

    /* Idle incidents. */
    if (now_ms > s->opts.idle_ms) {
        error = vnm_redis_query(s->redis, &keys, "ZRANGEBYSCORE "
                                "vnm:alerts:active -inf %"PRIu64
                                " LIMIT 0 %d", now_ms - s->opts.idle_ms,
                                TICK_BATCH);
        if (!error) {
            error = run_on_keys(s, "resolve", keys, now_ms);
        } else {
            error = store_error(s, error, "ZRANGEBYSCORE",
                                json_string_value(keys));
        }
        json_decref(keys);
        if (error) {
            return error;
        }
    }

    error = vnm_redis_query(s->redis, &count, "ZCARD vnm:alerts:active");
    if (!error && json_is_integer(count)) {
        s->stats.n_open = (uint64_t) json_integer_value(count);
    } else if (error) {
        error = store_error(s, error, "ZCARD", json_string_value(count));
    }
    json_decref(count);
    return error;
}
