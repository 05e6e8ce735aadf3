/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An OVSDB client (RFC 7047 JSON-RPC) on libevent: it connects to
 * ovsdb-server, sends one "monitor" request and keeps a replica of the
 * monitored tables up to date from the "update" notifications.  The live
 * inventory (inventory.c) is built from that replica; nothing else here
 * knows the Open_vSwitch schema.
 *
 * Three layers, each usable on its own (unit tests and the fuzz target
 * drive the first two without a socket):
 *
 *   stream   splits the byte stream into JSON-RPC messages.  OVSDB sends
 *            them back to back with no delimiter, so a scanner that knows
 *            strings and nesting finds where each top-level object ends;
 *            jansson then parses exactly that span.  A message is bounded
 *            (64 MiB by default); anything but an object, or invalid JSON,
 *            is a protocol error.
 *
 *   replica  the monitored rows, as jansson objects: table name -> row
 *            UUID -> { column: datum }.  Updates follow RFC 7047 4.1.6:
 *            "new" absent deletes the row; otherwise "new" is merged into
 *            the row ("old", which holds only the changed columns, is not
 *            needed).  The datum helpers below read a column whatever form
 *            it arrived in: a bare atom for a one-element set, ["set",
 *            [...]], ["map", [[k, v]...]], ["uuid", "..."].
 *
 *   client   the connection: "unix:PATH" or "tcp:IP:PORT".  It answers
 *            the server's "echo" requests, probes an idle server with its
 *            own echo, and on a lost connection, a protocol error or an
 *            unanswered probe reconnects with backoff (250 ms doubling to
 *            5 s) and then resynchronises fully: the monitor is sent again
 *            and its reply replaces the whole replica.  Until then the
 *            replica keeps the last known rows (is_synced() is false).
 *            Logging follows lib/redis.c: WARN once when the connection is
 *            lost or cannot be made, reminders after 1, 2, 4... minutes,
 *            INFO on recovery.
 *
 * Everything runs on the thread of the event base; nothing is thread-safe.
 */
#ifndef VNM_OVSDB_H
#define VNM_OVSDB_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct json_t;

/* The Open vSwitch database socket of a Debian install. */
#define OVSDB_DEFAULT_REMOTE "unix:/var/run/openvswitch/db.sock"

/* Default bound on one JSON-RPC message, in bytes. */
#define OVSDB_MAX_MESSAGE_SIZE (64u * 1024 * 1024)

/* ------------------------------------------------------------------ stream */

struct ovsdb_stream;

/* Creates a stream splitter that accepts messages of up to 'max_size'
 * bytes (0 means OVSDB_MAX_MESSAGE_SIZE). */
struct ovsdb_stream *ovsdb_stream_create(size_t max_size);
/* Frees 'stream' and what it buffers.  Accepts null. */
void ovsdb_stream_destroy(struct ovsdb_stream *stream);
/* Forgets buffered bytes and any error (a new connection). */
void ovsdb_stream_reset(struct ovsdb_stream *stream);

/* Appends 'n' bytes of 'data' to the stream.  Call ovsdb_stream_next()
 * until it yields nothing before feeding more: that keeps the buffer under
 * 'max_size' plus one feed. */
void ovsdb_stream_feed(struct ovsdb_stream *stream, const void *data,
                       size_t n);

/* Extracts the next complete message.  Returns 0 with '*msgp' a JSON
 * object owned by the caller, or with '*msgp' null if no complete message
 * is buffered yet; or, with '*msgp' null, EPROTO (not a JSON object, or
 * invalid JSON) or EMSGSIZE (a message larger than 'max_size').  After an
 * error the stream stays failed until ovsdb_stream_reset(). */
int ovsdb_stream_next(struct ovsdb_stream *stream, struct json_t **msgp);

/* Bytes buffered and not yet returned as messages. */
size_t ovsdb_stream_buffered(const struct ovsdb_stream *stream);

/* ----------------------------------------------------------------- replica */

struct ovsdb_replica;

/* Creates an empty replica. */
struct ovsdb_replica *ovsdb_replica_create(void);
/* Frees 'replica'.  Accepts null. */
void ovsdb_replica_destroy(struct ovsdb_replica *replica);
/* Removes every row. */
void ovsdb_replica_clear(struct ovsdb_replica *replica);

/* Applies 'table_updates', the <table-updates> object of a monitor reply or
 * an "update" notification (RFC 7047 4.1.6), to 'replica'.  Returns 0, or
 * EPROTO if it is malformed (what came before the fault stays applied: the
 * client resynchronises after a protocol error anyway).  'table_updates' is
 * borrowed; the rows keep references to its values. */
int ovsdb_replica_apply(struct ovsdb_replica *replica,
                        const struct json_t *table_updates);

/* The rows of 'table': an object mapping row UUID to a row object (column
 * name to datum), or null if the table has no row.  Valid until the
 * replica next changes. */
const struct json_t *ovsdb_replica_table(const struct ovsdb_replica *replica,
                                         const char *table);
/* The row 'uuid' of 'table', or null. */
const struct json_t *ovsdb_replica_row(const struct ovsdb_replica *replica,
                                       const char *table, const char *uuid);
/* Rows in all tables. */
size_t ovsdb_replica_n_rows(const struct ovsdb_replica *replica);

/* ------------------------------------------------------------------- datum */

/* The number of elements of a set datum: 0 for ["set", []], an absent
 * column (null 'datum') or a malformed one; 1 for a bare atom; the number
 * of pairs for a map. */
size_t ovsdb_datum_n(const struct json_t *datum);
/* Element 'i' (< ovsdb_datum_n()) of a set datum, an atom, or null. */
const struct json_t *ovsdb_datum_atom(const struct json_t *datum, size_t i);
/* The single element of an optional column (a set of at most one, such as
 * Port "tag" or Interface "ofport"), or null if it is empty. */
const struct json_t *ovsdb_datum_optional(const struct json_t *datum);
/* Pair 'i' of a map datum: stores its key and value atoms in '*keyp' and
 * '*valuep' and returns true, or returns false if there is no such pair. */
bool ovsdb_datum_map_pair(const struct json_t *datum, size_t i,
                          const struct json_t **keyp,
                          const struct json_t **valuep);
/* The value atom for string key 'key' in a map datum, or null. */
const struct json_t *ovsdb_datum_map_get(const struct json_t *datum,
                                         const char *key);

/* The UUID of a ["uuid", "..."] atom, or null. */
const char *ovsdb_atom_uuid(const struct json_t *atom);
/* The value of a string atom, or null. */
const char *ovsdb_atom_string(const struct json_t *atom);
/* Stores an integer atom's value in '*valuep' and returns true, or returns
 * false if 'atom' is not an integer. */
bool ovsdb_atom_integer(const struct json_t *atom, int64_t *valuep);

/* ------------------------------------------------------------------ client */

/* What happened, as reported to the client's callback. */
enum ovsdb_client_event {
    OVSDB_CLIENT_SYNCED,        /* A monitor reply replaced the replica. */
    OVSDB_CLIENT_UPDATED,       /* An "update" was applied. */
    OVSDB_CLIENT_DISCONNECTED,  /* The connection was lost or failed. */
};

/* Called on the loop thread after each event.  It may read the replica,
 * but must not destroy the client. */
typedef void ovsdb_client_func(void *aux, enum ovsdb_client_event event);

/* Connection statistics. */
struct ovsdb_client_stats {
    bool connected;             /* A connection is up. */
    bool synced;                /* ... and its monitor reply was applied. */
    uint64_t n_connects;        /* Connections made. */
    uint64_t n_reconnects;      /* Connections made after one was lost or
                                 * could not be made (recoveries). */
    uint64_t n_disconnects;     /* Connections lost, or attempts failed. */
    uint64_t n_syncs;           /* Monitor replies applied. */
    uint64_t n_resyncs;         /* Those after the first (full resyncs). */
    uint64_t n_updates;         /* "update" notifications applied. */
    uint64_t n_protocol_errors; /* Garbage, oversize or bad replies. */
    uint64_t n_echo_replies;    /* Server "echo" requests answered. */
    uint64_t last_change_ms;    /* Wall clock of the last sync or update. */
};

struct ovsdb_client;

/* True if 'remote' is "unix:PATH" or "tcp:IP:PORT" (IPv6 as [IP]). */
bool ovsdb_remote_valid(const char *remote);

/* Creates a client of database 'db' ("Open_vSwitch") at 'remote' that
 * monitors 'monitor_requests' (the <monitor-requests> object of RFC 7047
 * 4.1.5; the client takes ownership) and calls 'cb' with 'aux' on each
 * event.  It starts connecting at once, from the loop of 'base'.
 *
 * With a null 'remote' the client never connects: bytes are handed to it
 * with ovsdb_client_receive() (tests, fuzzing), and a reply whose id is
 * "monitor" counts as the monitor reply.  'base' may then be null. */
struct ovsdb_client *ovsdb_client_create(struct event_base *base,
                                         const char *remote, const char *db,
                                         struct json_t *monitor_requests,
                                         ovsdb_client_func *cb, void *aux);
/* Closes the connection and frees 'client'.  Accepts null. */
void ovsdb_client_destroy(struct ovsdb_client *client);

/* Processes 'n' bytes of 'data' as if read from the server: messages are
 * split, replies and notifications applied, callbacks called.  Returns 0,
 * or the error (EPROTO, EMSGSIZE) that made the client drop the connection.
 * A client without remote then starts afresh as after a reconnection: its
 * buffered input is dropped and it waits for a new monitor reply. */
int ovsdb_client_receive(struct ovsdb_client *client, const void *data,
                         size_t n);

/* The replica: the last known rows (kept while disconnected). */
const struct ovsdb_replica *ovsdb_client_replica(
    const struct ovsdb_client *client);
/* The remote, as given. */
const char *ovsdb_client_remote(const struct ovsdb_client *client);
/* True if connected and the monitor reply of this connection applied. */
bool ovsdb_client_is_synced(const struct ovsdb_client *client);
/* True if a connection is up. */
bool ovsdb_client_is_connected(const struct ovsdb_client *client);
/* Copies the statistics into '*stats'. */
void ovsdb_client_get_stats(const struct ovsdb_client *client,
                            struct ovsdb_client_stats *stats);

/* Tuning, mainly for tests: reconnection backoff from 'min_ms' doubling to
 * 'max_ms' (defaults 250 and 5000); idle time before an echo probe, and
 * again before giving up on its reply ('probe_ms', default 5000; 0
 * disables probing); largest message accepted ('max_size' bytes). */
void ovsdb_client_set_backoff(struct ovsdb_client *client, uint64_t min_ms,
                              uint64_t max_ms);
void ovsdb_client_set_probe(struct ovsdb_client *client, uint64_t probe_ms);
void ovsdb_client_set_max_message(struct ovsdb_client *client,
                                  size_t max_size);

#endif /* ovsdb.h */
