/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OVS userspace conntrack: the dpctl/dump-conntrack parser and the
 * ovs-vswitchd control socket client (ovs-conntrack.h).  The client
 * reuses ovs-ext/ovsdb.c's JSON-RPC stream splitter: ovs-vswitchd, like
 * ovsdb-server, sends JSON messages with no delimiter.
 */
#include <config.h>

#include "collector/ovs-conntrack.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "collector/conntrack.h"
#include "lib/flow-codec.h"
#include "lib/log.h"
#include "lib/util.h"
#include "ovs-ext/ovsdb.h"

VNM_LOG_MODULE(ovs_conntrack);

/* ---------------------------------------------------------------- parser */

/* OVS's TCP states (lib/ct-dpif.h CT_DPIF_TCP_STATES), in its order: the
 * verbose form's two states are coalesced by taking the later one. */
static const struct {
    const char *name;
    enum ct_tcp_state state;    /* After OVS's non-verbose coalescing. */
} ovs_tcp_states[] = {
    { "CLOSED", CT_TCP_CLOSE },
    { "LISTEN", CT_TCP_NONE },
    { "SYN_SENT", CT_TCP_SYN_SENT },
    /* OVS prints SYN_RECV as ESTABLISHED, and FIN_WAIT_2 as TIME_WAIT,
     * unless verbose, to match the kernel's view. */
    { "SYN_RECV", CT_TCP_ESTABLISHED },
    { "ESTABLISHED", CT_TCP_ESTABLISHED },
    { "CLOSE_WAIT", CT_TCP_CLOSE_WAIT },
    { "FIN_WAIT_1", CT_TCP_FIN_WAIT },
    { "CLOSING", CT_TCP_FIN_WAIT },
    { "LAST_ACK", CT_TCP_LAST_ACK },
    { "FIN_WAIT_2", CT_TCP_TIME_WAIT },
    { "TIME_WAIT", CT_TCP_TIME_WAIT },
};

/* Index of 'name' in ovs_tcp_states, or -1. */
static int
ovs_tcp_state_index(const char *name)
{
    for (size_t i = 0; i < VNM_ARRAY_SIZE(ovs_tcp_states); i++) {
        if (!strcmp(name, ovs_tcp_states[i].name)) {
            return (int) i;
        }
    }
    return -1;
}

int
ovs_ct_tcp_state(const char *name)
{
    int i = ovs_tcp_state_index(name);

    /* A kernel datapath's dump names the kernel's states. */
    return i >= 0 ? (int) ovs_tcp_states[i].state
                  : ct_tcp_state_from_name(name);
}

/* Splits 's' at top-level commas (not inside parentheses) into at most
 * 'max' items, written NUL-terminated into 's'.  Returns the count, or
 * -1 if the parentheses do not balance or there are too many items. */
static int
split_items(char *s, char **items, int max)
{
    int n = 0, depth = 0;
    char *start = s;

    for (char *p = s;; p++) {
        if (*p == '(') {
            depth++;
        } else if (*p == ')') {
            if (--depth < 0) {
                return -1;
            }
        } else if ((*p == ',' && !depth) || !*p) {
            bool end = !*p;

            if (n >= max) {
                return -1;
            }
            *p = '\0';
            items[n++] = start;
            start = p + 1;
            if (end) {
                break;
            }
        }
    }
    return depth ? -1 : n;
}

/* If 'item' is "KEY=VALUE" returns VALUE (in 'item', KEY terminated),
 * else null. */
static char *
item_value(char *item)
{
    char *eq = strchr(item, '=');

    if (!eq) {
        return NULL;
    }
    *eq = '\0';
    return eq + 1;
}

/* Parses the decimal 'value' into '*n' (at most 'max'). */
static bool
parse_uint(const char *value, uint64_t max, uint64_t *n)
{
    char *end;
    unsigned long long v;

    if (*value < '0' || *value > '9') {
        return false;
    }
    errno = 0;
    v = strtoull(value, &end, 10);
    if (errno || *end || v > max) {
        return false;
    }
    *n = v;
    return true;
}

static const struct {
    const char *name;
    uint8_t proto;
} ovs_protos[] = {
    { "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP },
    { "icmp", IPPROTO_ICMP }, { "icmpv6", IPPROTO_ICMPV6 },
    { "sctp", IPPROTO_SCTP }, { "udplite", IPPROTO_UDPLITE },
    { "dccp", IPPROTO_DCCP }, { "igmp", IPPROTO_IGMP },
    { "gre", IPPROTO_GRE },
};

/* Parses the tuple "src=A,dst=B,sport=N,dport=N" (or ICMP's
 * "src=A,dst=B,id=N,type=N,code=N") in 'value' (modified) into 'c'. */
static char *
parse_tuple(char *value, struct ct_conn *c)
{
    char *items[16];
    uint64_t id = 0, type = 0, code = 0;
    bool have_src = false, have_dst = false;
    size_t len = strlen(value);
    int n;

    if (len < 2 || value[0] != '(' || value[len - 1] != ')') {
        return xasprintf("tuple \"%s\" not in parentheses", value);
    }
    value[len - 1] = '\0';
    n = split_items(value + 1, items, (int) VNM_ARRAY_SIZE(items));
    if (n < 0) {
        return xstrdup("malformed tuple");
    }
    for (int i = 0; i < n; i++) {
        char *v = item_value(items[i]);
        const char *k = items[i];
        uint64_t u;

        if (!v) {
            return xasprintf("tuple item \"%s\" is not KEY=VALUE", k);
        }
        if (!strcmp(k, "src") || !strcmp(k, "dst")) {
            struct vnm_addr *a = k[0] == 's' ? &c->src : &c->dst;

            if (!vnm_addr_parse(v, a)) {
                return xasprintf("bad address \"%s\"", v);
            }
            *(k[0] == 's' ? &have_src : &have_dst) = true;
        } else if (!strcmp(k, "sport") || !strcmp(k, "dport")) {
            if (!parse_uint(v, UINT16_MAX, &u)) {
                return xasprintf("bad port \"%s\"", v);
            }
            *(k[0] == 's' ? &c->sport : &c->dport) = (uint16_t) u;
        } else if (!strcmp(k, "id") || !strcmp(k, "type")
                   || !strcmp(k, "code")) {
            uint64_t *dst = k[0] == 'i' ? &id : k[0] == 't' ? &type : &code;

            if (!parse_uint(v, k[0] == 'i' ? UINT16_MAX : UINT8_MAX, dst)) {
                return xasprintf("bad ICMP %s \"%s\"", k, v);
            }
        }
        /* Other items (e.g. sctp's vtag) do not identify the entry for
         * us. */
    }
    if (!have_src || !have_dst || c->src.family != c->dst.family) {
        return xstrdup("tuple without source and destination of one "
                       "family");
    }
    if (ct_conn_is_icmp(c)) {
        c->sport = (uint16_t) id;
        c->dport = (uint16_t) (type << 8 | code);
    }
    return NULL;
}

/* Parses "state=X" or "state_orig=X,state_reply=Y" of 'protoinfo'. */
static char *
parse_protoinfo(char *value, struct ct_conn *c)
{
    char *items[16];
    int orig = -1, reply = -1;
    size_t len = strlen(value);
    int n;

    if (len < 2 || value[0] != '(' || value[len - 1] != ')') {
        return xstrdup("protoinfo not in parentheses");
    }
    value[len - 1] = '\0';
    n = split_items(value + 1, items, (int) VNM_ARRAY_SIZE(items));
    if (n < 0) {
        return xstrdup("malformed protoinfo");
    }
    for (int i = 0; i < n; i++) {
        char *v = item_value(items[i]);
        const char *k = items[i];

        if (!v || c->proto != IPPROTO_TCP) {
            continue;
        }
        if (!strcmp(k, "state")) {
            int s = ovs_ct_tcp_state(v);

            if (s < 0) {
                return xasprintf("unknown TCP state \"%s\"", v);
            }
            c->tcp_state = (uint8_t) s;
            c->has |= CT_HAS_STATE;
        } else if (!strcmp(k, "state_orig") || !strcmp(k, "state_reply")) {
            int s = ovs_tcp_state_index(v);

            if (s < 0) {
                return xasprintf("unknown TCP state \"%s\"", v);
            }
            *(!strcmp(k, "state_orig") ? &orig : &reply) = s;
        }
    }
    if (!(c->has & CT_HAS_STATE) && (orig >= 0 || reply >= 0)) {
        int s = orig > reply ? orig : reply;

        c->tcp_state = (uint8_t) ovs_tcp_states[s].state;
        c->has |= CT_HAS_STATE;
    }
    return NULL;
}

char *
ovs_ct_parse_line(const char *line, struct ct_conn *c)
{
    char *copy = xstrdup(line);
    char *items[32];
    bool have_orig = false;
    char *error = NULL;
    uint64_t u;
    int n;

    memset(c, 0, sizeof *c);
    c->source = CT_SRC_OVS;
    n = split_items(copy, items, (int) VNM_ARRAY_SIZE(items));
    if (n < 2) {
        error = xstrdup(n < 0 ? "unbalanced parentheses or too many items"
                        : "no tuple");
        goto exit;
    }

    /* The protocol: a name, or a number when OVS has no name for it. */
    if (parse_uint(items[0], UINT8_MAX, &u)) {
        c->proto = (uint8_t) u;
    } else {
        size_t i;

        for (i = 0; i < VNM_ARRAY_SIZE(ovs_protos); i++) {
            if (!strcmp(items[0], ovs_protos[i].name)) {
                c->proto = ovs_protos[i].proto;
                break;
            }
        }
        if (i == VNM_ARRAY_SIZE(ovs_protos)) {
            error = xasprintf("unknown protocol \"%s\"", items[0]);
            goto exit;
        }
    }

    for (int i = 1; i < n && !error; i++) {
        char *v = item_value(items[i]);
        const char *k = items[i];

        if (!v) {
            continue;
        }
        if (!strcmp(k, "orig")) {
            error = parse_tuple(v, c);
            have_orig = true;
        } else if (!strcmp(k, "zone")) {
            if (parse_uint(v, UINT16_MAX, &u)) {
                c->zone = (uint16_t) u;
            } else {
                error = xasprintf("bad zone \"%s\"", v);
            }
        } else if (!strcmp(k, "mark")) {
            if (parse_uint(v, UINT32_MAX, &u)) {
                c->mark = (uint32_t) u;
                c->has |= CT_HAS_MARK;
            } else {
                error = xasprintf("bad mark \"%s\"", v);
            }
        } else if (!strcmp(k, "protoinfo")) {
            error = parse_protoinfo(v, c);
        }
        /* reply, id, status, timeout, labels, helper...: not needed. */
    }
    if (!error && !have_orig) {
        error = xstrdup("no orig tuple");
    }
    if (!error && !(c->has & CT_HAS_MARK)) {
        /* OVS prints only a non-zero mark. */
        c->has |= CT_HAS_MARK;
    }

exit:
    free(copy);
    return error;
}

/* ---------------------------------------------------------------- client */

/* A client; at most one request in flight. */
struct ovs_ct {
    struct event_base *base;
    char *rundir;               /* Where ovs-vswitchd.pid is. */

    /* The request in flight, if 'cb'. */
    ovs_ct_reply_func *cb;
    void *aux;
    int fd;                     /* Its connection, or -1. */
    struct event *io;           /* Readable 'fd'. */
    struct event *timer;        /* Timeout, or deferred failure. */
    struct ovsdb_stream *stream; /* Splits the reply out of the bytes. */
    int error;                  /* Deferred failure, or 0. */
    char *error_text;           /* Its description. */
};

struct ovs_ct *
ovs_ct_create(struct event_base *base, const char *rundir)
{
    struct ovs_ct *o = xzalloc(sizeof *o);

    o->base = base;
    o->rundir = xstrdup(rundir);
    o->fd = -1;
    return o;
}

/* Ends the request in flight, without calling back. */
static void
ovs_ct_close(struct ovs_ct *o)
{
    if (o->io) {
        event_free(o->io);
        o->io = NULL;
    }
    if (o->timer) {
        event_free(o->timer);
        o->timer = NULL;
    }
    if (o->fd >= 0) {
        close(o->fd);
        o->fd = -1;
    }
    ovsdb_stream_destroy(o->stream);
    o->stream = NULL;
    free(o->error_text);
    o->error_text = NULL;
    o->cb = NULL;
    o->aux = NULL;
}

void
ovs_ct_destroy(struct ovs_ct *o)
{
    if (o) {
        ovs_ct_close(o);
        free(o->rundir);
        free(o);
    }
}

bool
ovs_ct_busy(const struct ovs_ct *o)
{
    return o->cb != NULL;
}

/* Ends the request with its outcome.  'text' must not be owned by 'o'
 * (the caller takes 'error_text' first): the request is closed before the
 * callback, which may start the next one. */
static void
ovs_ct_finish(struct ovs_ct *o, int error, const char *text)
{
    ovs_ct_reply_func *cb = o->cb;
    void *aux = o->aux;

    ovs_ct_close(o);
    cb(aux, error, text);
}

/* The deferred failure, or the timeout. */
static void
ovs_ct_timer_cb(evutil_socket_t fd, short what, void *o_)
{
    struct ovs_ct *o = o_;

    (void) fd;
    (void) what;
    if (o->error) {
        char *text = o->error_text;

        o->error_text = NULL;
        ovs_ct_finish(o, o->error, text);
        free(text);
    } else {
        ovs_ct_finish(o, ETIMEDOUT, "no reply from ovs-vswitchd");
    }
}

/* Handles the reply 'msg'. */
static void
ovs_ct_reply(struct ovs_ct *o, const json_t *msg)
{
    const json_t *result = json_object_get(msg, "result");
    const json_t *error = json_object_get(msg, "error");

    if (error && !json_is_null(error)) {
        char *text = json_is_string(error)
                     ? xasprintf("ovs-vswitchd: %s", json_string_value(error))
                     : xstrdup("ovs-vswitchd answered with an error");

        ovs_ct_finish(o, EIO, text);
        free(text);
    } else if (!json_is_string(result)) {
        ovs_ct_finish(o, EPROTO, "ovs-vswitchd: reply without a result");
    } else {
        ovs_ct_finish(o, 0, json_string_value(result));
    }
}

static void
ovs_ct_read_cb(evutil_socket_t fd, short what, void *o_)
{
    struct ovs_ct *o = o_;
    char buf[65536];
    json_t *msg = NULL;
    ssize_t n;
    int error;

    (void) what;
    for (;;) {
        n = read(fd, buf, sizeof buf);
        if (n > 0) {
            ovsdb_stream_feed(o->stream, buf, (size_t) n);
            error = ovsdb_stream_next(o->stream, &msg);
            if (error || msg) {
                break;
            }
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            return;
        } else {
            char *text = xasprintf("ovs-vswitchd closed the connection (%s)",
                                   n ? strerror(errno) : "end of file");

            ovs_ct_finish(o, n ? errno : ECONNRESET, text);
            free(text);
            return;
        }
    }
    if (error) {
        ovs_ct_finish(o, error, error == EMSGSIZE
                      ? "ovs-vswitchd: reply too large"
                      : "ovs-vswitchd: malformed reply");
    } else {
        ovs_ct_reply(o, msg);
        json_decref(msg);
    }
}

/* Fails the request just started with 'error', calling back from the
 * loop. */
static void
ovs_ct_defer_error(struct ovs_ct *o, int error, char *text)
{
    struct timeval now = { 0, 0 };

    o->error = error;
    o->error_text = text;
    o->timer = event_new(o->base, -1, 0, ovs_ct_timer_cb, o);
    event_add(o->timer, &now);
}

/* Connects to ovs-vswitchd's control socket.  Returns the socket, or -1
 * with '*textp' saying why. */
static int
ovs_ct_connect(const struct ovs_ct *o, int *errorp, char **textp)
{
    struct sockaddr_un sun;
    char *pidfile = xasprintf("%s/ovs-vswitchd.pid", o->rundir);
    char pidbuf[32] = "";
    uint64_t pid;
    FILE *f;
    int fd, n;

    f = fopen(pidfile, "re");
    if (!f || !fgets(pidbuf, sizeof pidbuf, f)) {
        *errorp = f ? EINVAL : errno;
        *textp = xasprintf("%s: cannot read (%s)", pidfile,
                           f ? "empty" : strerror(errno));
        if (f) {
            fclose(f);
        }
        free(pidfile);
        return -1;
    }
    fclose(f);
    pidbuf[strcspn(pidbuf, "\r\n")] = '\0';
    if (!parse_uint(pidbuf, INT32_MAX, &pid) || !pid) {
        *errorp = EINVAL;
        *textp = xasprintf("%s: \"%s\" is not a pid", pidfile, pidbuf);
        free(pidfile);
        return -1;
    }
    free(pidfile);

    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    n = snprintf(sun.sun_path, sizeof sun.sun_path,
                 "%s/ovs-vswitchd.%"PRIu64".ctl", o->rundir, pid);
    if (n < 0 || (size_t) n >= sizeof sun.sun_path) {
        *errorp = ENAMETOOLONG;
        *textp = xasprintf("%s/ovs-vswitchd.%"PRIu64".ctl: path too long",
                           o->rundir, pid);
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *errorp = errno;
        *textp = xasprintf("socket: %s", strerror(errno));
        return -1;
    }
    /* A unix socket connects at once, or fails (EAGAIN: backlog full). */
    if (connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        *errorp = errno;
        *textp = xasprintf("%s: cannot connect (%s)", sun.sun_path,
                           strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

bool
ovs_ct_request(struct ovs_ct *o, ovs_ct_reply_func *cb, void *aux)
{
    static const char request[] =
        "{\"id\":0,\"method\":\"dpctl/dump-conntrack\","
        "\"params\":[\"" OVS_CT_DATAPATH "\"]}";
    struct timeval timeout = { OVS_CT_TIMEOUT_MS / 1000,
                               OVS_CT_TIMEOUT_MS % 1000 * 1000 };
    char *text = NULL;
    ssize_t n;
    int error = 0;

    if (o->cb) {
        return false;
    }
    o->cb = cb;
    o->aux = aux;
    o->error = 0;
    o->fd = ovs_ct_connect(o, &error, &text);
    if (o->fd < 0) {
        ovs_ct_defer_error(o, error, text);
        return true;
    }
    /* The request fits any socket buffer: one write. */
    n = send(o->fd, request, sizeof request - 1, MSG_NOSIGNAL);
    if (n != (ssize_t) (sizeof request - 1)) {
        error = n < 0 ? errno : EIO;
        ovs_ct_defer_error(o, error,
                           xasprintf("cannot send to ovs-vswitchd (%s)",
                                     strerror(error)));
        close(o->fd);
        o->fd = -1;
        return true;
    }
    o->stream = ovsdb_stream_create(OVS_CT_MAX_REPLY);
    o->io = event_new(o->base, o->fd, EV_READ | EV_PERSIST, ovs_ct_read_cb,
                      o);
    event_add(o->io, NULL);
    o->timer = event_new(o->base, -1, 0, ovs_ct_timer_cb, o);
    event_add(o->timer, &timeout);
    return true;
}
