/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OVSDB JSON-RPC client: stream splitting, the replica, the datum
 * helpers and the libevent connection.  See ovsdb.h.
 */
#include <config.h>

#include "ovs-ext/ovsdb.h"

#include <errno.h>
#include <poll.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <inttypes.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

VNM_LOG_MODULE(ovsdb);

/* Between messages. */
#define NO_MSG SIZE_MAX

/* The monitor's id in our requests and in the server's "update"s, and the
 * ids of the monitor request and of our echo probes. */
#define MONITOR_ID "vnmon"
#define MONITOR_REQUEST_ID "monitor"
#define PROBE_REQUEST_ID "probe"

enum {
    BACKOFF_MIN_MS = 250,
    BACKOFF_MAX_MS = 5000,
    PROBE_MS = 5000,
    REMINDER_FIRST_MS = 60 * 1000,
    READ_CHUNK = 16 * 1024,
    FEED_CHUNK = 64 * 1024,
    IDLE_BUFFER_MAX = 1024 * 1024, /* Kept between messages. */
};

/* ================================================================ stream */

/* A stream splitter: the bytes not yet returned and the scanner's state
 * in the open message. */
struct ovsdb_stream {
    char *buf;                  /* 'cap' + 1 bytes, NUL after 'len'. */
    size_t start;               /* First byte not yet returned. */
    size_t len;                 /* End of the buffered bytes. */
    size_t cap;                 /* Allocated size of 'buf'. */
    size_t scan;                /* Next byte to scan. */
    size_t msg_start;           /* Start of the open message, or NO_MSG. */
    size_t depth;               /* Nesting of the open message. */
    bool in_string;             /* Inside a JSON string. */
    bool escape;                /* ... just after a backslash. */
    int error;                  /* Sticky error, or 0. */
    size_t max_size;            /* Largest message accepted. */
};

struct ovsdb_stream *
ovsdb_stream_create(size_t max_size)
{
    struct ovsdb_stream *s = xzalloc(sizeof *s);

    s->max_size = max_size ? max_size : OVSDB_MAX_MESSAGE_SIZE;
    s->msg_start = NO_MSG;
    return s;
}

void
ovsdb_stream_destroy(struct ovsdb_stream *s)
{
    if (s) {
        free(s->buf);
        free(s);
    }
}

/* Empties the buffer, giving back a large one. */
static void
stream_empty(struct ovsdb_stream *s)
{
    s->start = s->len = s->scan = 0;
    if (s->cap > IDLE_BUFFER_MAX) {
        free(s->buf);
        s->buf = NULL;
        s->cap = 0;
    }
}

void
ovsdb_stream_reset(struct ovsdb_stream *s)
{
    stream_empty(s);
    s->msg_start = NO_MSG;
    s->depth = 0;
    s->in_string = s->escape = false;
    s->error = 0;
}

void
ovsdb_stream_feed(struct ovsdb_stream *s, const void *data, size_t n)
{
    if (s->error || !n) {
        return;
    }
    if (s->start > 0 && s->cap - s->len < n) {
        size_t off = s->start;

        memmove(s->buf, s->buf + off, s->len - off);
        s->len -= off;
        s->buf[s->len] = '\0';
        s->scan -= off;
        if (s->msg_start != NO_MSG) {
            s->msg_start -= off;
        }
        s->start = 0;
    }
    if (s->cap - s->len < n) {
        size_t cap = s->cap ? s->cap : 4096;

        while (cap - s->len < n) {
            cap *= 2;
        }
        s->buf = xrealloc(s->buf, cap + 1);
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->buf[s->len] = '\0';
}

static int
stream_fail(struct ovsdb_stream *s, int error)
{
    s->error = error;
    return error;
}

/* Parses the message that ends just before 'scan'. */
static int
stream_parse(struct ovsdb_stream *s, json_t **msgp)
{
    size_t size = s->scan - s->msg_start;
    json_error_t err;
    json_t *msg;

    msg = json_loadb(s->buf + s->msg_start, size, 0, &err);
    s->start = s->scan;
    s->msg_start = NO_MSG;
    if (!msg) {
        VNM_DBG("invalid JSON in a %zu-byte message: %s (at byte %d)", size,
                err.text, err.position);
        return stream_fail(s, EPROTO);
    }
    if (!json_is_object(msg)) {
        json_decref(msg);
        return stream_fail(s, EPROTO);
    }
    *msgp = msg;
    return 0;
}

/* The bytes that matter inside a message. */
#define STRUCTURAL "{}[]\"\\"

int
ovsdb_stream_next(struct ovsdb_stream *s, json_t **msgp)
{
    const unsigned char *buf = (const unsigned char *) s->buf;
    size_t i, end;

    *msgp = NULL;
    if (s->error) {
        return s->error;
    }

    /* Between messages: whitespace, then '{'. */
    if (s->msg_start == NO_MSG) {
        for (i = s->scan; i < s->len; i++) {
            if (buf[i] != ' ' && buf[i] != '\n' && buf[i] != '\r'
                && buf[i] != '\t') {
                break;
            }
        }
        s->start = s->scan = i;
        if (i == s->len) {
            stream_empty(s);
            return 0;
        }
        if (buf[i] != '{') {
            VNM_DBG("message starts with byte 0x%02x, not '{'", buf[i]);
            return stream_fail(s, EPROTO);
        }
        s->msg_start = i;
        s->scan = i + 1;
        s->depth = 1;
        s->in_string = s->escape = false;
    }

    /* Inside a message, up to its end or the size limit. */
    i = s->scan;
    end = (s->len - s->msg_start > s->max_size
           ? s->msg_start + s->max_size : s->len);
    if (s->escape && i < end) {
        s->escape = false;
        i++;
    }
    while (i < end) {
        char c;

        /* The buffer is NUL-terminated: strcspn() stops at the end, or
         * at a NUL byte inside, which is then skipped. */
        i += strcspn((const char *) buf + i, STRUCTURAL);
        if (i >= end) {
            i = end;
            break;
        }
        c = (char) buf[i++];
        if (s->in_string) {
            if (c == '"') {
                s->in_string = false;
            } else if (c == '\\') {
                if (i < end) {
                    i++;
                } else {
                    s->escape = true;
                }
            }
        } else if (c == '"') {
            s->in_string = true;
        } else if (c == '{' || c == '[') {
            s->depth++;
        } else if ((c == '}' || c == ']') && !--s->depth) {
            s->scan = i;
            return stream_parse(s, msgp);
        }
    }
    s->scan = i;
    if (end < s->len) {
        return stream_fail(s, EMSGSIZE);
    }
    return 0;
}

size_t
ovsdb_stream_buffered(const struct ovsdb_stream *s)
{
    return s->len - s->start;
}

/* =============================================================== replica */

/* The rows of the monitored tables. */
struct ovsdb_replica {
    json_t *tables;             /* Table name -> { UUID -> row }. */
};

struct ovsdb_replica *
ovsdb_replica_create(void)
{
    struct ovsdb_replica *r = xzalloc(sizeof *r);

    r->tables = json_object();
    vnm_assert(r->tables);
    return r;
}

void
ovsdb_replica_destroy(struct ovsdb_replica *r)
{
    if (r) {
        json_decref(r->tables);
        free(r);
    }
}

void
ovsdb_replica_clear(struct ovsdb_replica *r)
{
    json_object_clear(r->tables);
}

int
ovsdb_replica_apply(struct ovsdb_replica *r, const json_t *updates)
{
    const char *table_name;
    json_t *table_update;

    if (!json_is_object(updates)) {
        return EPROTO;
    }
    json_object_foreach ((json_t *) updates, table_name, table_update) {
        const char *uuid;
        json_t *row_update;
        json_t *table;

        if (!json_is_object(table_update)) {
            return EPROTO;
        }
        table = json_object_get(r->tables, table_name);
        if (!table) {
            table = json_object();
            json_object_set_new(r->tables, table_name, table);
        }
        json_object_foreach (table_update, uuid, row_update) {
            json_t *old, *new, *row;

            if (!json_is_object(row_update)) {
                return EPROTO;
            }
            old = json_object_get(row_update, "old");
            new = json_object_get(row_update, "new");
            if ((old && !json_is_object(old))
                || (new && !json_is_object(new))) {
                return EPROTO;
            }
            if (!new) {
                json_object_del(table, uuid);
                continue;
            }
            row = json_object_get(table, uuid);
            if (row) {
                /* "new" holds every monitored column of a modified row in
                 * "monitor" replies; merging also copes with a server that
                 * sends only the changed ones. */
                json_object_update(row, new);
            } else {
                /* Shared with the message, which is freed after this. */
                json_object_set(table, uuid, new);
            }
        }
        if (!json_object_size(table)) {
            json_object_del(r->tables, table_name);
        }
    }
    return 0;
}

const json_t *
ovsdb_replica_table(const struct ovsdb_replica *r, const char *table)
{
    return json_object_get(r->tables, table);
}

const json_t *
ovsdb_replica_row(const struct ovsdb_replica *r, const char *table,
                  const char *uuid)
{
    return json_object_get(json_object_get(r->tables, table), uuid);
}

size_t
ovsdb_replica_n_rows(const struct ovsdb_replica *r)
{
    const char *name;
    json_t *table;
    size_t n = 0;

    json_object_foreach (r->tables, name, table) {
        n += json_object_size(table);
    }
    return n;
}

/* ================================================================= datum */

/* True if 'datum' is ["TAG", X]. */
static bool
datum_is_tagged(const json_t *datum, const char *tag)
{
    const char *s;

    if (!json_is_array(datum) || json_array_size(datum) != 2) {
        return false;
    }
    s = json_string_value(json_array_get(datum, 0));
    return s && !strcmp(s, tag);
}

/* The element array of a ["set", [...]] or ["map", [...]] datum, or
 * null. */
static const json_t *
datum_elements(const json_t *datum, const char *tag)
{
    const json_t *elems;

    if (!datum_is_tagged(datum, tag)) {
        return NULL;
    }
    elems = json_array_get(datum, 1);
    return json_is_array(elems) ? elems : NULL;
}

/* True if 'json' can be an atom: string, number, boolean or ["uuid", S]
 * or ["named-uuid", S]. */
static bool
is_atom(const json_t *json)
{
    if (json_is_array(json)) {
        return ((datum_is_tagged(json, "uuid")
                 || datum_is_tagged(json, "named-uuid"))
                && json_is_string(json_array_get(json, 1)));
    }
    return json_is_string(json) || json_is_number(json)
           || json_is_boolean(json);
}

size_t
ovsdb_datum_n(const json_t *datum)
{
    const json_t *elems;

    if ((elems = datum_elements(datum, "set"))
        || (elems = datum_elements(datum, "map"))) {
        return json_array_size(elems);
    }
    return is_atom(datum) ? 1 : 0;
}

const json_t *
ovsdb_datum_atom(const json_t *datum, size_t i)
{
    const json_t *elems = datum_elements(datum, "set");
    const json_t *atom;

    if (elems) {
        atom = json_array_get(elems, i);
        return is_atom(atom) ? atom : NULL;
    }
    return i == 0 && is_atom(datum) ? datum : NULL;
}

const json_t *
ovsdb_datum_optional(const json_t *datum)
{
    return ovsdb_datum_atom(datum, 0);
}

bool
ovsdb_datum_map_pair(const json_t *datum, size_t i, const json_t **keyp,
                     const json_t **valuep)
{
    const json_t *pair = json_array_get(datum_elements(datum, "map"), i);

    if (!json_is_array(pair) || json_array_size(pair) != 2
        || !is_atom(json_array_get(pair, 0))
        || !is_atom(json_array_get(pair, 1))) {
        return false;
    }
    *keyp = json_array_get(pair, 0);
    *valuep = json_array_get(pair, 1);
    return true;
}

const json_t *
ovsdb_datum_map_get(const json_t *datum, const char *key)
{
    const json_t *elems = datum_elements(datum, "map");

    for (size_t i = 0; i < json_array_size(elems); i++) {
        const json_t *k, *v;
        const char *s;

        if (ovsdb_datum_map_pair(datum, i, &k, &v)
            && (s = json_string_value(k)) && !strcmp(s, key)) {
            return v;
        }
    }
    return NULL;
}

const char *
ovsdb_atom_uuid(const json_t *atom)
{
    return (datum_is_tagged(atom, "uuid")
            ? json_string_value(json_array_get(atom, 1)) : NULL);
}

const char *
ovsdb_atom_string(const json_t *atom)
{
    return json_string_value(atom);
}

bool
ovsdb_atom_integer(const json_t *atom, int64_t *valuep)
{
    if (!json_is_integer(atom)) {
        return false;
    }
    *valuep = json_integer_value(atom);
    return true;
}

/* ================================================================ client */

/* A client: the connection, its replica, and the outage bookkeeping. */
struct ovsdb_client {
    struct event_base *base;    /* Loop of every event here. */
    char *remote;               /* As given, or null (fed by hand). */
    char *db;                   /* Database name. */
    json_t *monitor_requests;   /* Owned. */
    ovsdb_client_func *cb;      /* Called after each event, or null. */
    void *aux;                  /* Passed to 'cb'. */

    struct sockaddr_storage addr; /* Parsed 'remote'. */
    socklen_t addr_len;         /* Size of 'addr'. */

    struct ovsdb_stream *stream; /* Splits what arrives. */
    struct ovsdb_replica *replica; /* The rows, never null. */
    struct bufferevent *bev;    /* Null while disconnected. */
    struct event *retry_ev;     /* Next connection attempt. */
    struct event *tick_ev;      /* Probes and reminders. */
    bool connecting;            /* 'bev' waits for its connection. */
    bool connected;             /* 'bev' is connected. */
    bool synced;                /* ... and its monitor reply applied. */
    char why[160];              /* Reason of the last protocol error. */

    uint64_t backoff_min_ms;    /* First delay after a failure. */
    uint64_t backoff_max_ms;    /* Ceiling of the doubling delay. */
    uint64_t backoff_ms;        /* Delay before the next attempt. */
    bool in_outage;             /* Logged as down, not yet as back. */
    uint64_t outage_start_mono; /* When the outage began (monotonic). */
    uint64_t next_reminder_mono; /* When to log that it goes on. */
    uint64_t reminder_interval_ms; /* Doubles after each reminder. */

    uint64_t probe_ms;          /* 0: no probes. */
    uint64_t last_rx_mono;      /* Last byte received. */
    bool probe_sent;            /* An echo probe awaits its reply. */
    uint64_t probe_sent_mono;   /* When it was sent. */

    struct ovsdb_client_stats stats; /* What ovsdb_client_get_stats()
                                      * copies. */
};

static void client_connect(struct ovsdb_client *);
static void client_arm_tick(struct ovsdb_client *);

/* Fills 'ss' from 'remote'; returns false if malformed. */
static bool
parse_remote(const char *remote, struct sockaddr_storage *ss,
             socklen_t *lenp)
{
    memset(ss, 0, sizeof *ss);
    if (!strncmp(remote, "unix:", 5)) {
        struct sockaddr_un *sun = (struct sockaddr_un *) ss;
        const char *path = remote + 5;
        size_t n = strlen(path);

        if (!n || n >= sizeof sun->sun_path) {
            return false;
        }
        sun->sun_family = AF_UNIX;
        memcpy(sun->sun_path, path, n + 1);
        *lenp = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + 1);
        return true;
    }
    if (!strncmp(remote, "tcp:", 4)) {
        int len = (int) sizeof *ss;

        if (evutil_parse_sockaddr_port(remote + 4, (struct sockaddr *) ss,
                                       &len)) {
            return false;
        }
        if (ss->ss_family == AF_INET) {
            if (!((struct sockaddr_in *) ss)->sin_port) {
                return false;
            }
        } else if (ss->ss_family == AF_INET6) {
            if (!((struct sockaddr_in6 *) ss)->sin6_port) {
                return false;
            }
        } else {
            return false;
        }
        *lenp = (socklen_t) len;
        return true;
    }
    return false;
}

bool
ovsdb_remote_valid(const char *remote)
{
    struct sockaddr_storage ss;
    socklen_t len;

    return remote && parse_remote(remote, &ss, &len);
}

/* Sends 'msg' (taking ownership), if connected. */
static void
client_send(struct ovsdb_client *c, json_t *msg)
{
    char *s;

    if (c->bev && msg) {
        s = json_dumps(msg, JSON_COMPACT);
        if (s) {
            bufferevent_write(c->bev, s, strlen(s));
            free(s);
        }
    }
    json_decref(msg);
}

static void
client_send_monitor(struct ovsdb_client *c)
{
    client_send(c, json_pack("{s:s, s:s, s:[s, s, O]}",
                             "id", MONITOR_REQUEST_ID,
                             "method", "monitor",
                             "params", c->db, MONITOR_ID,
                             c->monitor_requests));
}

/* Schedules the next connection attempt after the current backoff, and
 * doubles the backoff. */
static void
client_schedule_retry(struct ovsdb_client *c)
{
    struct timeval tv = {
        .tv_sec = (time_t) (c->backoff_ms / 1000),
        .tv_usec = (suseconds_t) (c->backoff_ms % 1000) * 1000,
    };

    evtimer_add(c->retry_ev, &tv);
    c->backoff_ms = (c->backoff_ms * 2 > c->backoff_max_ms
                     ? c->backoff_max_ms : c->backoff_ms * 2);
}

/* Drops the connection (or the failed attempt) because of 'what' ('why'),
 * logs the start of an outage once, and schedules a new attempt. */
static void
client_disconnect(struct ovsdb_client *c, const char *what, const char *why)
{
    bool was_connected = c->connected;

    if (c->bev) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    c->connecting = c->connected = c->synced = false;
    c->probe_sent = false;
    c->stats.connected = c->stats.synced = false;
    c->stats.n_disconnects++;
    ovsdb_stream_reset(c->stream);
    if (!c->remote) {
        /* Fed by hand: "reconnected" at once. */
        c->connected = c->stats.connected = true;
        return;
    }
    client_schedule_retry(c);
    if (!c->in_outage) {
        c->in_outage = true;
        c->outage_start_mono = vnm_time_mono_ms();
        c->reminder_interval_ms = REMINDER_FIRST_MS;
        c->next_reminder_mono = c->outage_start_mono + REMINDER_FIRST_MS;
        VNM_WARN("ovsdb %s: %s (%s); reconnecting with backoff up to "
                 "%"PRIu64" ms", c->remote, what, why, c->backoff_max_ms);
    } else {
        VNM_DBG("ovsdb %s: %s (%s)", c->remote, what, why);
    }
    if (was_connected && c->cb) {
        c->cb(c->aux, OVSDB_CLIENT_DISCONNECTED);
    }
}

/* A monitor reply: 'result' becomes the whole replica. */
static int
client_synced(struct ovsdb_client *c, const json_t *result)
{
    struct ovsdb_replica *fresh = ovsdb_replica_create();

    if (ovsdb_replica_apply(fresh, result)) {
        ovsdb_replica_destroy(fresh);
        snprintf(c->why, sizeof c->why, "malformed monitor reply");
        return EPROTO;
    }
    ovsdb_replica_destroy(c->replica);
    c->replica = fresh;
    c->synced = c->stats.synced = true;
    if (c->stats.n_syncs++) {
        c->stats.n_resyncs++;
    }
    c->stats.last_change_ms = vnm_time_wall_ms();
    c->backoff_ms = c->backoff_min_ms;
    if (c->remote) {
        size_t n_rows = ovsdb_replica_n_rows(c->replica);

        if (c->in_outage) {
            c->in_outage = false;
            VNM_INFO("ovsdb %s: connected again after %.1f s, %s (%zu rows)",
                     c->remote,
                     (double) (vnm_time_mono_ms() - c->outage_start_mono)
                     / 1000.0,
                     c->stats.n_resyncs ? "full resync done" : "synced",
                     n_rows);
        } else {
            VNM_INFO("ovsdb %s: connected, monitoring %zu rows", c->remote,
                     n_rows);
        }
    }
    if (c->cb) {
        c->cb(c->aux, OVSDB_CLIENT_SYNCED);
    }
    return 0;
}

/* An "update" notification with 'params'. */
static int
client_update(struct ovsdb_client *c, const json_t *params)
{
    const json_t *id = json_array_get(params, 0);

    if (!json_is_array(params) || json_array_size(params) != 2) {
        snprintf(c->why, sizeof c->why, "malformed update");
        return EPROTO;
    }
    if (!json_is_string(id) || strcmp(json_string_value(id), MONITOR_ID)) {
        VNM_DBG("update for another monitor ignored");
        return 0;
    }
    if (!c->synced) {
        /* The server sends the monitor reply first: this can only come
         * from a confused server. */
        snprintf(c->why, sizeof c->why, "update before the monitor reply");
        return EPROTO;
    }
    if (ovsdb_replica_apply(c->replica, json_array_get(params, 1))) {
        snprintf(c->why, sizeof c->why, "malformed update");
        return EPROTO;
    }
    c->stats.n_updates++;
    c->stats.last_change_ms = vnm_time_wall_ms();
    if (c->cb) {
        c->cb(c->aux, OVSDB_CLIENT_UPDATED);
    }
    return 0;
}

/* Handles one message.  Returns 0 or EPROTO (with 'why' filled in). */
static int
client_handle(struct ovsdb_client *c, const json_t *msg)
{
    const json_t *method = json_object_get(msg, "method");
    const json_t *id = json_object_get(msg, "id");
    const json_t *error, *result;
    const char *s;

    if (method) {
        const json_t *params = json_object_get(msg, "params");

        s = json_string_value(method);
        if (!s) {
            snprintf(c->why, sizeof c->why, "non-string method");
            return EPROTO;
        }
        if (!strcmp(s, "echo")) {
            if (id && !json_is_null(id)) {
                client_send(c, json_pack("{s:O, s:O, s:n}", "id", id,
                                         "result",
                                         params ? params : json_null(),
                                         "error"));
                c->stats.n_echo_replies++;
            }
            return 0;
        }
        if (!strcmp(s, "update")) {
            return client_update(c, params);
        }
        VNM_DBG("ignoring request or notification \"%s\"", s);
        return 0;
    }

    /* A reply. */
    if (!id) {
        snprintf(c->why, sizeof c->why, "message is neither a request nor a "
                 "reply");
        return EPROTO;
    }
    if (!json_is_string(id) || strcmp(json_string_value(id),
                                      MONITOR_REQUEST_ID)) {
        return 0;               /* Our probes' replies, or not ours. */
    }
    error = json_object_get(msg, "error");
    result = json_object_get(msg, "result");
    if (error && !json_is_null(error)) {
        char *text = json_dumps(error, JSON_COMPACT | JSON_ENCODE_ANY);

        snprintf(c->why, sizeof c->why, "monitor request failed: %.100s",
                 text ? text : "?");
        free(text);
        return EPROTO;
    }
    if (!json_is_object(result)) {
        snprintf(c->why, sizeof c->why, "monitor reply without result");
        return EPROTO;
    }
    return client_synced(c, result);
}

static void
client_protocol_error(struct ovsdb_client *c, int error)
{
    c->stats.n_protocol_errors++;
    if (error == EMSGSIZE) {
        snprintf(c->why, sizeof c->why, "message larger than the limit");
    } else if (!c->why[0]) {
        snprintf(c->why, sizeof c->why, "not a JSON-RPC message stream");
    }
    client_disconnect(c, "protocol error", c->why);
}

int
ovsdb_client_receive(struct ovsdb_client *c, const void *data, size_t n)
{
    const char *p = data;
    int error = 0;

    c->last_rx_mono = vnm_time_mono_ms();
    c->probe_sent = false;
    c->why[0] = '\0';
    while (n > 0 && !error) {
        size_t chunk = n < FEED_CHUNK ? n : FEED_CHUNK;

        ovsdb_stream_feed(c->stream, p, chunk);
        p += chunk;
        n -= chunk;
        for (;;) {
            json_t *msg;

            error = ovsdb_stream_next(c->stream, &msg);
            if (error || !msg) {
                break;
            }
            error = client_handle(c, msg);
            json_decref(msg);
            if (error) {
                break;
            }
        }
    }
    if (error) {
        client_protocol_error(c, error);
    }
    return error;
}

static void
on_read(struct bufferevent *bev, void *c_)
{
    struct ovsdb_client *c = c_;
    struct evbuffer *input = bufferevent_get_input(bev);
    char buf[READ_CHUNK];
    int n;

    while ((n = evbuffer_remove(input, buf, sizeof buf)) > 0) {
        if (ovsdb_client_receive(c, buf, (size_t) n)) {
            return;             /* 'bev' is gone. */
        }
    }
}

static void
on_event(struct bufferevent *bev, short events, void *c_)
{
    struct ovsdb_client *c = c_;

    if (events & BEV_EVENT_CONNECTED) {
        c->connecting = false;
        c->connected = c->stats.connected = true;
        c->stats.n_connects++;
        if (c->stats.n_disconnects) {
            c->stats.n_reconnects++;
        }
        c->last_rx_mono = vnm_time_mono_ms();
        c->probe_sent = false;
        ovsdb_stream_reset(c->stream);
        VNM_DBG("ovsdb %s: connected, sending monitor", c->remote);
        client_send_monitor(c);
    } else if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        int error = EVUTIL_SOCKET_ERROR();
        const char *why = ((events & BEV_EVENT_EOF) && !c->connecting
                           ? "closed by the server"
                           : error ? strerror(error) : "connection failed");

        client_disconnect(c, (c->connecting ? "cannot connect"
                              : "connection lost"), why);
    }
    (void) bev;
}

static void
client_connect(struct ovsdb_client *c)
{
    int fd, error;

    vnm_assert(!c->bev);
    fd = socket(c->addr.ss_family, SOCK_STREAM, 0);
    if (fd < 0) {
        c->connecting = true;
        client_disconnect(c, "cannot connect", strerror(errno));
        return;
    }
    evutil_make_socket_nonblocking(fd);
    evutil_make_socket_closeonexec(fd);
    if (connect(fd, (struct sockaddr *) &c->addr, c->addr_len) < 0
        && errno != EINPROGRESS) {
        error = errno;
        close(fd);
        c->connecting = true;
        client_disconnect(c, "cannot connect", strerror(error));
        return;
    }
    c->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
    vnm_assert(c->bev);
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    c->connecting = true;
    /* The connection completes (or fails) when the socket is writable. */
    if (bufferevent_socket_connect(c->bev, NULL, 0) < 0) {
        client_disconnect(c, "cannot connect", "bufferevent failure");
        return;
    }
    bufferevent_enable(c->bev, EV_READ);
}

static void
on_retry(evutil_socket_t fd, short what, void *c_)
{
    struct ovsdb_client *c = c_;

    (void) fd;
    (void) what;
    if (!c->bev) {
        client_connect(c);
    }
}

static void
on_tick(evutil_socket_t fd, short what, void *c_)
{
    struct ovsdb_client *c = c_;
    uint64_t now = vnm_time_mono_ms();

    (void) fd;
    (void) what;
    if (c->connected && c->probe_ms) {
        if (c->probe_sent && now - c->probe_sent_mono >= c->probe_ms) {
            char why[64];

            snprintf(why, sizeof why, "no reply to an echo for %"PRIu64
                     " ms", now - c->probe_sent_mono);
            client_disconnect(c, "connection lost", why);
            return;
        }
        if (!c->probe_sent && now - c->last_rx_mono >= c->probe_ms) {
            client_send(c, json_pack("{s:s, s:s, s:[]}", "id",
                                     PROBE_REQUEST_ID, "method", "echo",
                                     "params"));
            c->probe_sent = true;
            c->probe_sent_mono = now;
        }
    }
    if (c->in_outage && now >= c->next_reminder_mono) {
        VNM_WARN("ovsdb %s: still unreachable after %"PRIu64" s",
                 c->remote, (now - c->outage_start_mono) / 1000);
        c->reminder_interval_ms *= 2;
        c->next_reminder_mono = now + c->reminder_interval_ms;
    }
}

/* (Re)arms the tick: twice per probe interval, at most once a second. */
static void
client_arm_tick(struct ovsdb_client *c)
{
    uint64_t ms = c->probe_ms ? c->probe_ms / 2 : 1000;
    struct timeval tv;

    if (!c->tick_ev) {
        return;
    }
    ms = ms > 1000 ? 1000 : ms < 10 ? 10 : ms;
    tv.tv_sec = (time_t) (ms / 1000);
    tv.tv_usec = (suseconds_t) (ms % 1000) * 1000;
    evtimer_del(c->tick_ev);
    event_add(c->tick_ev, &tv);
}

struct ovsdb_client *
ovsdb_client_create(struct event_base *base, const char *remote,
                    const char *db, json_t *monitor_requests,
                    ovsdb_client_func *cb, void *aux)
{
    struct ovsdb_client *c = xzalloc(sizeof *c);

    c->base = base;
    c->db = xstrdup(db);
    c->monitor_requests = monitor_requests;
    c->cb = cb;
    c->aux = aux;
    c->stream = ovsdb_stream_create(0);
    c->replica = ovsdb_replica_create();
    c->backoff_min_ms = c->backoff_ms = BACKOFF_MIN_MS;
    c->backoff_max_ms = BACKOFF_MAX_MS;
    c->probe_ms = PROBE_MS;
    if (!remote) {
        /* Fed by hand: always "connected". */
        c->connected = c->stats.connected = true;
        return c;
    }
    vnm_assert(parse_remote(remote, &c->addr, &c->addr_len));
    c->remote = xstrdup(remote);
    c->retry_ev = evtimer_new(base, on_retry, c);
    c->tick_ev = event_new(base, -1, EV_PERSIST, on_tick, c);
    vnm_assert(c->retry_ev && c->tick_ev);
    client_arm_tick(c);
    /* Connect from the loop, never from here. */
    event_active(c->retry_ev, EV_TIMEOUT, 1);
    return c;
}

/* Closes the connection without a reset: half-closes it, then reads and
 * discards what ovsdb-server still sends (e.g. statistics updates) until it
 * closes its side, for at most 500 ms.  Closing a unix socket with unread
 * data resets the connection, which ovsdb-server logs as a warning. */
static void
client_close_gracefully(struct ovsdb_client *c)
{
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    uint64_t deadline = vnm_time_mono_ms() + 500;

    if (fd >= 0 && c->connected) {
        bufferevent_disable(c->bev, EV_READ | EV_WRITE);
        shutdown(fd, SHUT_WR);
        for (;;) {
            struct pollfd pfd = { .fd = fd, .events = POLLIN };
            uint64_t now = vnm_time_mono_ms();
            char buf[4096];

            if (now >= deadline
                || poll(&pfd, 1, (int) (deadline - now)) <= 0
                || read(fd, buf, sizeof buf) <= 0) {
                break;
            }
        }
    }
    bufferevent_free(c->bev);
    c->bev = NULL;
}

void
ovsdb_client_destroy(struct ovsdb_client *c)
{
    if (!c) {
        return;
    }
    if (c->bev) {
        client_close_gracefully(c);
    }
    if (c->retry_ev) {
        event_free(c->retry_ev);
    }
    if (c->tick_ev) {
        event_free(c->tick_ev);
    }
    ovsdb_stream_destroy(c->stream);
    ovsdb_replica_destroy(c->replica);
    json_decref(c->monitor_requests);
    free(c->remote);
    free(c->db);
    free(c);
}

const struct ovsdb_replica *
ovsdb_client_replica(const struct ovsdb_client *c)
{
    return c->replica;
}

const char *
ovsdb_client_remote(const struct ovsdb_client *c)
{
    return c->remote;
}

bool
ovsdb_client_is_synced(const struct ovsdb_client *c)
{
    return c->synced;
}

bool
ovsdb_client_is_connected(const struct ovsdb_client *c)
{
    return c->connected;
}

void
ovsdb_client_get_stats(const struct ovsdb_client *c,
                       struct ovsdb_client_stats *stats)
{
    *stats = c->stats;
}

void
ovsdb_client_set_backoff(struct ovsdb_client *c, uint64_t min_ms,
                         uint64_t max_ms)
{
    c->backoff_min_ms = c->backoff_ms = min_ms ? min_ms : 1;
    c->backoff_max_ms = max_ms < c->backoff_min_ms ? c->backoff_min_ms
                                                   : max_ms;
}

void
ovsdb_client_set_probe(struct ovsdb_client *c, uint64_t probe_ms)
{
    c->probe_ms = probe_ms;
    client_arm_tick(c);
}

void
ovsdb_client_set_max_message(struct ovsdb_client *c, size_t max_size)
{
    ovsdb_stream_destroy(c->stream);
    c->stream = ovsdb_stream_create(max_size);
}
