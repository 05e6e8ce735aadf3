/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of ovs-ext/ovsdb.c and ovs-ext/inventory.c: splitting of
 * back-to-back, partial and garbage message streams; the datum forms (bare
 * atoms, sets, maps, uuids); update application ("old" with only the
 * changed columns, partial "new", deletion); the inventory built from it,
 * its lookups and snapshot; resync; and the client against a fake
 * ovsdb-server on a unix socket and on TCP (monitor request, echo,
 * reconnection with resync, protocol errors, probes).  No root needed.
 *
 * Fixtures are written with single quotes, turned into double quotes by
 * J().
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lib/util.h"
#include "ovs-ext/inventory.h"
#include "ovs-ext/ovsdb.h"

/* ------------------------------------------------------------- fixtures */

/* 'text' with every ' turned into " (malloc'd). */
static char *
J(const char *text)
{
    char *s = xstrdup(text);

    for (char *p = s; *p; p++) {
        if (*p == '\'') {
            *p = '"';
        }
    }
    return s;
}

#define NO_IDS "'external_ids':['map',[]],'options':['map',[]]," \
    "'statistics':['map',[]],'link_speed':['set',[]]," \
    "'admin_state':['set',[]],'link_state':['set',[]]," \
    "'mac_in_use':['set',[]]"

#define T1VM1_ROW(TENANT)                                               \
    "{'name':'t1vm1','type':'','ofport':2,'ifindex':11,"                \
    "'mac_in_use':'02:00:00:00:01:01',"                                 \
    "'external_ids':['map',[['attached-mac','02:00:00:00:01:01'],"      \
    "['iface-id','1f0c-1'],['vm-uuid','564d-1'],"                       \
    "['vnmon-ips','10.0.0.11, fd00::11/64'],"                           \
    "['vnmon-tenant','" TENANT "']]],"                                  \
    "'options':['map',[]],"                                             \
    "'statistics':['map',[['rx_packets',3],['rx_bytes',300],"           \
    "['tx_packets',4],['tx_bytes',400],['rx_dropped',1],"               \
    "['tx_errors',2]]],"                                                \
    "'link_speed':10000000000,'admin_state':'up','link_state':'up'}"

#define BR0_PORTS(...)                                                  \
    "{'name':'br0','datapath_type':'netdev','mirrors':['uuid','m0'],"   \
    "'ports':['set',[" __VA_ARGS__ "]]}"

#define ALL_PORTS "['uuid','p0'],['uuid','p1'],['uuid','p2'],"          \
    "['uuid','p3'],['uuid','p4']"

/* The initial state: br0 with host0 (internal), t1vm1 (one-element sets
 * as bare atoms), t2vm1 (the same as ["set", [x]], tag 101), vx0 (VXLAN),
 * bond0 (two interfaces, trunks), a mirror, and an Interface row that no
 * port references. */
#define TABLES_INITIAL                                                  \
    "{'Bridge':{'b0':{'new':" BR0_PORTS(ALL_PORTS) "}},"               \
    "'Port':{"                                                          \
    "'p0':{'new':{'name':'host0','interfaces':['uuid','i0'],"           \
    "'tag':['set',[]],'trunks':['set',[]],'vlan_mode':['set',[]]}},"    \
    "'p1':{'new':{'name':'t1vm1','interfaces':['uuid','i1'],"           \
    "'tag':['set',[]],'trunks':['set',[]],'vlan_mode':['set',[]]}},"    \
    "'p2':{'new':{'name':'t2vm1','interfaces':['set',[['uuid','i2']]]," \
    "'tag':101,'trunks':['set',[]],'vlan_mode':'access'}},"             \
    "'p3':{'new':{'name':'vx0','interfaces':['uuid','i3'],"             \
    "'tag':['set',[]],'trunks':['set',[]],'vlan_mode':['set',[]]}},"    \
    "'p4':{'new':{'name':'bond0','interfaces':['set',[['uuid','i4'],"   \
    "['uuid','i5']]],'tag':['set',[]],'trunks':['set',[10,20]],"        \
    "'vlan_mode':'trunk'}}},"                                           \
    "'Interface':{"                                                     \
    "'i0':{'new':{'name':'host0','type':'internal','ofport':1,"         \
    "'ifindex':5,'mac_in_use':'02:00:00:00:00:01',"                     \
    "'external_ids':['map',[]],'options':['map',[]],"                   \
    "'statistics':['map',[['rx_bytes',100],['tx_bytes',200]]],"         \
    "'link_speed':['set',[]],'admin_state':'up','link_state':'up'}},"   \
    "'i1':{'new':" T1VM1_ROW("tenant1") "},"                            \
    "'i2':{'new':{'name':'t2vm1','type':'','ofport':['set',[3]],"       \
    "'ifindex':['set',[12]],"                                           \
    "'mac_in_use':['set',['02:00:00:00:02:01']],"                       \
    "'external_ids':['map',[['iface-id','1f0c-2'],['vm-id','vm-two'],"  \
    "['vnmon-ips','10.0.0.21'],['vnmon-tenant','tenant2']]],"           \
    "'options':['map',[]],'statistics':['map',[]],"                     \
    "'link_speed':['set',[]],'admin_state':['set',[]],"                 \
    "'link_state':['set',[]]}},"                                        \
    "'i3':{'new':{'name':'vx0','type':'vxlan','ofport':4,'ifindex':0,"  \
    "'mac_in_use':['set',[]],'external_ids':['map',[]],"                \
    "'options':['map',[['key','5000'],['local_ip','192.0.2.1'],"        \
    "['remote_ip','192.0.2.2']]],'statistics':['map',[]],"              \
    "'link_speed':['set',[]],'admin_state':['set',[]],"                 \
    "'link_state':['set',[]]}},"                                        \
    "'i4':{'new':{'name':'eth1','type':'','ofport':5,'ifindex':21,"     \
    NO_IDS "}},"                                                        \
    "'i5':{'new':{'name':'eth2','type':'','ofport':6,'ifindex':22,"     \
    NO_IDS "}},"                                                        \
    "'i9':{'new':{'name':'orphan','type':'','ofport':9,'ifindex':99,"   \
    NO_IDS "}}},"                                                       \
    "'Mirror':{'m0':{'new':{'name':'mir0','select_all':true,"           \
    "'select_src_port':['set',[]],'select_dst_port':['uuid','p1'],"     \
    "'output_port':['uuid','p0'],'output_vlan':['set',[]]}}}}"

#define MONITOR_REPLY(TABLES) \
    "{'id':'monitor','error':null,'result':" TABLES "}"
#define UPDATE(TABLES) \
    "{'id':null,'method':'update','params':['vnmon'," TABLES "]}"

static const char initial[] = MONITOR_REPLY(TABLES_INITIAL);

/* t1vm1's tenant changes: "old" holds only external_ids, "new" the row. */
static const char update_tenant[] = UPDATE(
    "{'Interface':{'i1':{"
    "'old':{'external_ids':['map',[['attached-mac','02:00:00:00:01:01'],"
    "['iface-id','1f0c-1'],['vm-uuid','564d-1'],"
    "['vnmon-ips','10.0.0.11, fd00::11/64'],"
    "['vnmon-tenant','tenant1']]]},"
    "'new':" T1VM1_ROW("tenantX") "}}}");

/* A "new" with only the changed column (as some servers send). */
static const char update_partial[] = UPDATE(
    "{'Interface':{'i2':{'old':{'ofport':3},'new':{'ofport':7}}}}");

/* Counters only. */
static const char update_stats[] = UPDATE(
    "{'Interface':{'i0':{'old':{'statistics':['map',[['rx_bytes',100],"
    "['tx_bytes',200]]]},'new':{'statistics':['map',[['rx_bytes',150],"
    "['tx_bytes',250]]],'link_state':'down'}}}}");

/* t2vm1 removed: its Port and Interface rows deleted, br0's ports
 * modified. */
static const char update_delete[] = UPDATE(
    "{'Interface':{'i2':{'old':{'name':'t2vm1'}}},"
    "'Port':{'p2':{'old':{'name':'t2vm1'}}},"
    "'Bridge':{'b0':{'old':{'ports':['set',[" ALL_PORTS "]]},"
    "'new':" BR0_PORTS("['uuid','p0'],['uuid','p1'],['uuid','p3'],"
                       "['uuid','p4']") "}}}");

/* A new port t1vm2 (inserted, then its ofport arrives). */
static const char update_insert[] = UPDATE(
    "{'Interface':{'i6':{'new':{'name':'t1vm2','type':'',"
    "'ofport':['set',[]],'ifindex':['set',[]],"
    "'external_ids':['map',[['vnmon-tenant','tenant1'],"
    "['vnmon-ips','10.0.0.12']]],'options':['map',[]],"
    "'statistics':['map',[]],'link_speed':['set',[]],"
    "'admin_state':['set',[]],'link_state':['set',[]],"
    "'mac_in_use':['set',[]]}}},"
    "'Port':{'p6':{'new':{'name':'t1vm2','interfaces':['uuid','i6'],"
    "'tag':['set',[]],'trunks':['set',[]],'vlan_mode':['set',[]]}}},"
    "'Bridge':{'b0':{'old':{'ports':['set',[" ALL_PORTS "]]},"
    "'new':" BR0_PORTS(ALL_PORTS ",['uuid','p6']") "}}}")
    UPDATE("{'Interface':{'i6':{'old':{'ofport':['set',[]],"
           "'ifindex':['set',[]]},'new':{'ofport':8,'ifindex':13}}}}");

/* After a restart: br0 with host0 only. */
static const char resync[] = MONITOR_REPLY(
    "{'Bridge':{'b1':{'new':{'name':'br0','datapath_type':'netdev',"
    "'ports':['uuid','q0'],'mirrors':['set',[]]}}},"
    "'Port':{'q0':{'new':{'name':'host0','interfaces':['uuid','j0'],"
    "'tag':['set',[]],'trunks':['set',[]],'vlan_mode':['set',[]]}}},"
    "'Interface':{'j0':{'new':{'name':'host0','type':'internal',"
    "'ofport':1,'ifindex':5," NO_IDS "}}}}");

/* ------------------------------------------------------------- stream */

/* Feeds 'text' (after J()) to 's' in pieces of 'piece' bytes (0: at
 * once) and collects the messages in 'msgs'.  Returns the first error. */
static int
feed_all(struct ovsdb_stream *s, const char *text, size_t piece,
         json_t *msgs)
{
    size_t n = strlen(text);
    size_t off = 0;

    if (!piece) {
        piece = n ? n : 1;
    }
    while (off < n) {
        size_t chunk = n - off < piece ? n - off : piece;
        int error;

        ovsdb_stream_feed(s, text + off, chunk);
        off += chunk;
        for (;;) {
            json_t *msg;

            error = ovsdb_stream_next(s, &msg);
            if (error) {
                assert_null(msg);
                return error;
            }
            if (!msg) {
                break;
            }
            json_array_append_new(msgs, msg);
        }
    }
    return 0;
}

static const char stream3[] =
    "{'a':1}{'b':[2,{'c':'}{[]'}]}  \n\t{'d':'\\\\\\'}{'}\r\n"
    "{'e':{'f':{'g':[[],{}]}},'h':'\\u00e9'}";

static void
check_stream3(json_t *msgs)
{
    assert_int_equal(json_array_size(msgs), 4);
    assert_int_equal(json_integer_value(
                         json_object_get(json_array_get(msgs, 0), "a")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(
                                json_array_get(msgs, 1), "b"), 1), "c")),
                        "}{[]");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(msgs, 2), "d")), "\\\"}{");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(msgs, 3), "h")), "\xc3\xa9");
}

static void
test_stream_back_to_back(void **state)
{
    struct ovsdb_stream *s = ovsdb_stream_create(0);
    json_t *msgs = json_array();
    char *text = J(stream3);

    (void) state;
    assert_int_equal(feed_all(s, text, 0, msgs), 0);
    check_stream3(msgs);
    assert_int_equal(ovsdb_stream_buffered(s), 0);
    json_decref(msgs);
    free(text);
    ovsdb_stream_destroy(s);
}

static void
test_stream_partial(void **state)
{
    char *text = J(stream3);
    size_t n = strlen(text);

    (void) state;
    /* Every piece size, including byte by byte. */
    for (size_t piece = 1; piece <= n; piece++) {
        struct ovsdb_stream *s = ovsdb_stream_create(0);
        json_t *msgs = json_array();

        assert_int_equal(feed_all(s, text, piece, msgs), 0);
        check_stream3(msgs);
        json_decref(msgs);
        ovsdb_stream_destroy(s);
    }
    /* Split in two at every position. */
    for (size_t cut = 0; cut <= n; cut++) {
        struct ovsdb_stream *s = ovsdb_stream_create(0);
        json_t *msgs = json_array();
        json_t *msg;

        ovsdb_stream_feed(s, text, cut);
        while (!ovsdb_stream_next(s, &msg) && msg) {
            json_array_append_new(msgs, msg);
        }
        ovsdb_stream_feed(s, text + cut, n - cut);
        while (!ovsdb_stream_next(s, &msg) && msg) {
            json_array_append_new(msgs, msg);
        }
        check_stream3(msgs);
        json_decref(msgs);
        ovsdb_stream_destroy(s);
    }
    free(text);
}

static void
test_stream_garbage(void **state)
{
    static const struct {
        const char *text;
        size_t n_good;          /* Messages before the error. */
    } cases[] = {
        { "xyz", 0 },
        { "[1,2]", 0 },
        { "'str'", 0 },
        { "{'a':1}]", 1 },
        { "{'a':1} x {'b':2}", 1 },
        { "{'a':}", 0 },            /* Balanced but not JSON. */
        { "{'a':1,}", 0 },
        { "{'a':[1}]}", 0 },        /* Brackets mismatched. */
        { "{'a':'\x01'}", 0 },      /* Control character in a string. */
        { "{'a':'\\u0000'}", 0 },   /* NUL in a string. */
        { "{'a':99999999999999999999999}", 0 },
    };

    (void) state;
    for (size_t i = 0; i < VNM_ARRAY_SIZE(cases); i++) {
        struct ovsdb_stream *s = ovsdb_stream_create(0);
        json_t *msgs = json_array();
        char *text = J(cases[i].text);
        json_t *msg = NULL;

        assert_int_equal(feed_all(s, text, 0, msgs), EPROTO);
        assert_int_equal(json_array_size(msgs), cases[i].n_good);
        /* The error sticks... */
        ovsdb_stream_feed(s, "{}", 2);
        assert_int_equal(ovsdb_stream_next(s, &msg), EPROTO);
        assert_null(msg);
        /* ...until a reset. */
        ovsdb_stream_reset(s);
        ovsdb_stream_feed(s, "{}", 2);
        assert_int_equal(ovsdb_stream_next(s, &msg), 0);
        assert_non_null(msg);
        json_decref(msg);
        json_decref(msgs);
        free(text);
        ovsdb_stream_destroy(s);
    }

    /* A NUL byte between messages. */
    {
        struct ovsdb_stream *s = ovsdb_stream_create(0);
        json_t *msg;

        ovsdb_stream_feed(s, "{\"a\":1}\0{\"b\":2}", 15);
        assert_int_equal(ovsdb_stream_next(s, &msg), 0);
        assert_non_null(msg);
        json_decref(msg);
        assert_int_equal(ovsdb_stream_next(s, &msg), EPROTO);
        ovsdb_stream_destroy(s);
    }
}

static void
test_stream_too_big(void **state)
{
    struct ovsdb_stream *s = ovsdb_stream_create(64);
    char big[200];
    json_t *msg;

    (void) state;
    /* Exactly the limit passes. */
    memset(big, ' ', sizeof big);
    memcpy(big, "{\"a\":\"", 6);
    big[62] = '"';
    big[63] = '}';
    ovsdb_stream_feed(s, big, 64);
    assert_int_equal(ovsdb_stream_next(s, &msg), 0);
    assert_non_null(msg);
    json_decref(msg);

    /* An unfinished message past the limit fails before it ends. */
    memset(big, 'x', sizeof big);
    memcpy(big, "{\"a\":\"", 6);
    ovsdb_stream_feed(s, big, sizeof big);
    assert_int_equal(ovsdb_stream_next(s, &msg), EMSGSIZE);
    assert_null(msg);
    ovsdb_stream_destroy(s);
}

static void
test_stream_whitespace(void **state)
{
    struct ovsdb_stream *s = ovsdb_stream_create(0);
    json_t *msg;

    (void) state;
    ovsdb_stream_feed(s, " \n\t\r ", 5);
    assert_int_equal(ovsdb_stream_next(s, &msg), 0);
    assert_null(msg);
    assert_int_equal(ovsdb_stream_buffered(s), 0);
    ovsdb_stream_feed(s, "{\"a\"", 4);
    assert_int_equal(ovsdb_stream_next(s, &msg), 0);
    assert_null(msg);
    assert_int_equal(ovsdb_stream_buffered(s), 4);
    ovsdb_stream_feed(s, ":1} ", 4);
    assert_int_equal(ovsdb_stream_next(s, &msg), 0);
    assert_non_null(msg);
    json_decref(msg);
    ovsdb_stream_destroy(s);
}

/* -------------------------------------------------------------- datum */

static json_t *
parse(const char *text)
{
    char *s = J(text);
    json_t *json = json_loads(s, JSON_DECODE_ANY, NULL);

    assert_non_null(json);
    free(s);
    return json;
}

static void
test_datum(void **state)
{
    json_t *d;
    const json_t *k, *v;
    int64_t i;

    (void) state;
    assert_int_equal(ovsdb_datum_n(NULL), 0);
    assert_null(ovsdb_datum_optional(NULL));

    d = parse("'abc'");                 /* Bare atom: a one-element set. */
    assert_int_equal(ovsdb_datum_n(d), 1);
    assert_string_equal(ovsdb_atom_string(ovsdb_datum_optional(d)), "abc");
    assert_null(ovsdb_datum_atom(d, 1));
    json_decref(d);

    d = parse("42");
    assert_true(ovsdb_atom_integer(ovsdb_datum_optional(d), &i));
    assert_int_equal(i, 42);
    json_decref(d);

    d = parse("['set',[]]");
    assert_int_equal(ovsdb_datum_n(d), 0);
    assert_null(ovsdb_datum_optional(d));
    json_decref(d);

    d = parse("['set',[1,2,3]]");
    assert_int_equal(ovsdb_datum_n(d), 3);
    assert_true(ovsdb_atom_integer(ovsdb_datum_atom(d, 2), &i));
    assert_int_equal(i, 3);
    assert_null(ovsdb_datum_atom(d, 3));
    json_decref(d);

    d = parse("['uuid','u-1']");        /* A bare UUID atom. */
    assert_int_equal(ovsdb_datum_n(d), 1);
    assert_string_equal(ovsdb_atom_uuid(ovsdb_datum_atom(d, 0)), "u-1");
    json_decref(d);

    d = parse("['set',[['uuid','u-1'],['uuid','u-2']]]");
    assert_int_equal(ovsdb_datum_n(d), 2);
    assert_string_equal(ovsdb_atom_uuid(ovsdb_datum_atom(d, 1)), "u-2");
    assert_null(ovsdb_atom_string(ovsdb_datum_atom(d, 1)));
    json_decref(d);

    d = parse("['map',[['k1','v1'],['k2',7]]]");
    assert_int_equal(ovsdb_datum_n(d), 2);
    assert_string_equal(ovsdb_atom_string(ovsdb_datum_map_get(d, "k1")),
                        "v1");
    assert_true(ovsdb_atom_integer(ovsdb_datum_map_get(d, "k2"), &i));
    assert_int_equal(i, 7);
    assert_null(ovsdb_datum_map_get(d, "k3"));
    assert_true(ovsdb_datum_map_pair(d, 1, &k, &v));
    assert_string_equal(json_string_value(k), "k2");
    assert_false(ovsdb_datum_map_pair(d, 2, &k, &v));
    assert_null(ovsdb_datum_atom(d, 0));    /* Not a set. */
    json_decref(d);

    /* Malformed forms read as empty. */
    static const char *const bad[] = {
        "['set']", "['set',3]", "['foo',1]", "{'a':1}", "null", "[]",
        "['uuid',3]", "['map',[['k']]]", "['set',[[1]]]",
    };
    for (size_t j = 0; j < VNM_ARRAY_SIZE(bad); j++) {
        d = parse(bad[j]);
        assert_null(ovsdb_datum_optional(d));
        assert_null(ovsdb_datum_map_get(d, "k"));
        assert_null(ovsdb_atom_uuid(d));
        json_decref(d);
    }
}

/* ------------------------------------------------------------ replica */

static void
test_replica_apply(void **state)
{
    struct ovsdb_replica *r = ovsdb_replica_create();
    json_t *u;

    (void) state;
    u = parse("{'T':{'r1':{'new':{'a':1,'b':2}},'r2':{'new':{'a':3}}}}");
    assert_int_equal(ovsdb_replica_apply(r, u), 0);
    json_decref(u);
    assert_int_equal(ovsdb_replica_n_rows(r), 2);

    /* "old" with only the changed column, "new" with only it too. */
    u = parse("{'T':{'r1':{'old':{'b':2},'new':{'b':5}}}}");
    assert_int_equal(ovsdb_replica_apply(r, u), 0);
    json_decref(u);
    assert_int_equal(json_integer_value(json_object_get(
                         ovsdb_replica_row(r, "T", "r1"), "a")), 1);
    assert_int_equal(json_integer_value(json_object_get(
                         ovsdb_replica_row(r, "T", "r1"), "b")), 5);

    /* Deletion: "new" absent. */
    u = parse("{'T':{'r2':{'old':{'a':3}}, 'r7':{'old':{}}}}");
    assert_int_equal(ovsdb_replica_apply(r, u), 0);
    json_decref(u);
    assert_null(ovsdb_replica_row(r, "T", "r2"));
    assert_int_equal(ovsdb_replica_n_rows(r), 1);

    /* The last row gone: the table too. */
    u = parse("{'T':{'r1':{'old':{}}}}");
    assert_int_equal(ovsdb_replica_apply(r, u), 0);
    json_decref(u);
    assert_null(ovsdb_replica_table(r, "T"));

    static const char *const bad[] = {
        "[]", "{'T':[]}", "{'T':{'r':1}}", "{'T':{'r':{'new':[]}}}",
        "{'T':{'r':{'old':3,'new':{}}}}",
    };
    for (size_t i = 0; i < VNM_ARRAY_SIZE(bad); i++) {
        u = parse(bad[i]);
        assert_int_equal(ovsdb_replica_apply(r, u), EPROTO);
        json_decref(u);
    }
    ovsdb_replica_clear(r);
    assert_int_equal(ovsdb_replica_n_rows(r), 0);
    ovsdb_replica_destroy(r);
}

/* ---------------------------------------------------------- inventory */

struct changes {
    int n;
};

static void
count_change(void *changes_)
{
    struct changes *changes = changes_;

    changes->n++;
}

static int
receive(struct inventory *inv, const char *text)
{
    char *s = J(text);
    int error = inventory_receive(inv, s, strlen(s));

    free(s);
    return error;
}

static struct inventory *
initial_inventory(struct changes *changes)
{
    struct inventory *inv = inventory_create(NULL, NULL, count_change,
                                             changes);

    assert_false(inventory_is_synced(inv));
    assert_int_equal(inventory_n_interfaces(inv), 0);
    assert_int_equal(receive(inv, initial), 0);
    assert_true(inventory_is_synced(inv));
    return inv;
}

static struct vnm_addr
addr(const char *s)
{
    struct vnm_addr a;

    memset(&a, 0, sizeof a);
    if (strchr(s, ':')) {
        a.family = 6;
        assert_int_equal(inet_pton(AF_INET6, s, a.a), 1);
    } else {
        a.family = 4;
        assert_int_equal(inet_pton(AF_INET, s, a.a), 1);
    }
    return a;
}

static void
test_inventory_initial(void **state)
{
    static const char *const order[] = {
        "eth1", "eth2", "host0", "t1vm1", "t2vm1", "vx0",
    };
    struct changes changes = { 0 };
    struct inventory *inv = initial_inventory(&changes);
    const struct inv_interface *i;
    struct vnm_attribution a;
    struct inventory_stats st;
    struct vnm_addr ad;

    (void) state;
    assert_int_equal(changes.n, 1);
    assert_int_equal(inventory_n_interfaces(inv), VNM_ARRAY_SIZE(order));
    for (size_t k = 0; k < VNM_ARRAY_SIZE(order); k++) {
        assert_string_equal(inventory_interface(inv, k)->name, order[k]);
    }
    assert_null(inventory_interface(inv, VNM_ARRAY_SIZE(order)));
    assert_null(inventory_find_by_name(inv, "orphan"));

    /* Bare atoms everywhere. */
    i = inventory_find_by_name(inv, "t1vm1");
    assert_non_null(i);
    assert_string_equal(i->bridge, "br0");
    assert_string_equal(i->port, "t1vm1");
    assert_string_equal(i->type, "");
    assert_int_equal(i->ofport, 2);
    assert_int_equal(i->ifindex, 11);
    assert_true(i->mac_valid);
    assert_memory_equal(i->mac, "\x02\x00\x00\x00\x01\x01", 6);
    assert_int_equal(i->link_speed, 10000000000LL);
    assert_string_equal(i->admin_state, "up");
    assert_string_equal(i->iface_id, "1f0c-1");
    assert_string_equal(i->attached_mac, "02:00:00:00:01:01");
    assert_string_equal(i->vm, "564d-1");
    assert_string_equal(i->tenant, "tenant1");
    assert_int_equal(i->n_ips, 2);
    ad = addr("10.0.0.11");
    assert_memory_equal(&i->ips[0], &ad, sizeof ad);
    ad = addr("fd00::11");
    assert_memory_equal(&i->ips[1], &ad, sizeof ad);
    assert_int_equal(i->tag, -1);
    assert_string_equal(i->vlan_mode, "");
    assert_int_equal(i->n_trunks, 0);
    assert_int_equal(i->tunnel_type, INV_TUNNEL_NONE);
    assert_int_equal(i->stats.rx_packets, 3);
    assert_int_equal(i->stats.rx_bytes, 300);
    assert_int_equal(i->stats.tx_packets, 4);
    assert_int_equal(i->stats.tx_bytes, 400);
    assert_int_equal(i->stats.rx_dropped, 1);
    assert_int_equal(i->stats.tx_errors, 2);
    assert_int_equal(i->stats.tx_dropped, 0);

    /* The same as one-element sets; vm-id; tag. */
    i = inventory_find_by_name(inv, "t2vm1");
    assert_non_null(i);
    assert_int_equal(i->ofport, 3);
    assert_int_equal(i->ifindex, 12);
    assert_true(i->mac_valid);
    assert_memory_equal(i->mac, "\x02\x00\x00\x00\x02\x01", 6);
    assert_string_equal(i->vm, "vm-two");
    assert_string_equal(i->tenant, "tenant2");
    assert_int_equal(i->tag, 101);
    assert_string_equal(i->vlan_mode, "access");
    assert_int_equal(i->link_speed, -1);
    assert_string_equal(i->link_state, "");

    i = inventory_find_by_name(inv, "vx0");
    assert_non_null(i);
    assert_int_equal(i->tunnel_type, INV_TUNNEL_VXLAN);
    assert_string_equal(i->tunnel_key, "5000");
    assert_true(i->tunnel_key_valid);
    assert_int_equal(i->tunnel_key_value, 5000);
    assert_string_equal(i->tunnel_remote, "192.0.2.2");
    ad = addr("192.0.2.2");
    assert_memory_equal(&i->tunnel_remote_ip, &ad, sizeof ad);
    ad = addr("192.0.2.1");
    assert_memory_equal(&i->tunnel_local_ip, &ad, sizeof ad);
    assert_false(i->mac_valid);
    assert_int_equal(i->ifindex, 0);

    i = inventory_find_by_name(inv, "eth2");
    assert_non_null(i);
    assert_string_equal(i->port, "bond0");
    assert_string_equal(i->vlan_mode, "trunk");
    assert_int_equal(i->n_trunks, 2);
    assert_int_equal(i->trunks[0], 10);
    assert_int_equal(i->trunks[1], 20);

    /* Lookups. */
    assert_string_equal(inventory_find_by_ifindex(inv, 12)->name, "t2vm1");
    assert_string_equal(inventory_find_by_ifindex(inv, 5)->name, "host0");
    assert_null(inventory_find_by_ifindex(inv, 0));
    assert_null(inventory_find_by_ifindex(inv, 99));
    assert_string_equal(inventory_find_by_ofport(inv, "br0", 2)->name,
                        "t1vm1");
    assert_string_equal(inventory_find_by_ofport(inv, "br0", 6)->name,
                        "eth2");
    assert_null(inventory_find_by_ofport(inv, "br1", 2));
    assert_null(inventory_find_by_ofport(inv, "br0", 9));
    ad = addr("10.0.0.21");
    assert_string_equal(inventory_find_by_ip(inv, &ad)->name, "t2vm1");
    ad = addr("fd00::11");
    assert_string_equal(inventory_find_by_ip(inv, &ad)->name, "t1vm1");
    ad = addr("10.0.0.99");
    assert_null(inventory_find_by_ip(inv, &ad));
    memset(&ad, 0, sizeof ad);
    assert_null(inventory_find_by_ip(inv, &ad));

    inventory_attribution(inventory_find_by_name(inv, "t1vm1"), &a);
    assert_string_equal(a.port, "t1vm1");
    assert_int_equal(a.ofport, 2);
    assert_string_equal(a.iface_id, "1f0c-1");
    assert_string_equal(a.vm, "564d-1");
    assert_string_equal(a.tenant, "tenant1");

    inventory_get_stats(inv, &st);
    assert_true(st.synced);
    assert_int_equal(st.n_resyncs, 0);
    assert_int_equal(st.n_updates, 0);
    assert_int_equal(st.n_interfaces, 6);
    assert_true(st.last_change_ms > 0);
    inventory_destroy(inv);
}

/* Looks up 'path' ("a/0/b" style: object keys and array indexes). */
static const json_t *
jget(const json_t *json, const char *path)
{
    char *copy = xstrdup(path);
    char *save = NULL;

    for (char *p = strtok_r(copy, "/", &save); p && json;
         p = strtok_r(NULL, "/", &save)) {
        json = (json_is_array(json)
                ? json_array_get(json, strtoul(p, NULL, 10))
                : json_object_get(json, p));
    }
    free(copy);
    return json;
}

static void
test_inventory_json(void **state)
{
    struct changes changes = { 0 };
    struct inventory *inv = initial_inventory(&changes);
    json_t *j = inventory_to_json(inv);
    char *text;

    (void) state;
    assert_int_equal(json_integer_value(jget(j, "version")), 1);
    assert_true(json_is_true(jget(j, "synced")));
    assert_true(json_is_null(jget(j, "remote")));
    assert_string_equal(json_string_value(jget(j, "bridges/0/name")), "br0");
    assert_string_equal(json_string_value(jget(j, "bridges/0/datapath_type")),
                        "netdev");
    assert_int_equal(json_array_size(jget(j, "bridges/0/ports")), 5);
    assert_string_equal(json_string_value(jget(j, "ports/0/name")), "bond0");
    assert_int_equal(json_array_size(jget(j, "ports/0/interfaces")), 2);
    assert_int_equal(json_integer_value(jget(j, "ports/0/trunks/1")), 20);
    assert_string_equal(json_string_value(jget(j, "interfaces/3/name")),
                        "t1vm1");
    assert_string_equal(json_string_value(jget(j, "interfaces/3/mac")),
                        "02:00:00:00:01:01");
    assert_string_equal(json_string_value(jget(j, "interfaces/3/ips/1")),
                        "fd00::11");
    assert_string_equal(json_string_value(jget(j, "interfaces/3/tenant")),
                        "tenant1");
    assert_true(json_is_null(jget(j, "interfaces/3/tag")));
    assert_int_equal(json_integer_value(
                         jget(j, "interfaces/3/statistics/rx_bytes")), 300);
    assert_int_equal(json_integer_value(jget(j, "interfaces/4/tag")), 101);
    assert_string_equal(json_string_value(jget(j, "interfaces/5/tunnel/type")),
                        "vxlan");
    assert_int_equal(json_integer_value(jget(j, "interfaces/5/tunnel/vni")),
                     5000);
    assert_string_equal(json_string_value(
                            jget(j, "interfaces/5/tunnel/remote_ip")),
                        "192.0.2.2");
    assert_string_equal(json_string_value(jget(j, "mirrors/0/name")), "mir0");
    assert_true(json_is_true(jget(j, "mirrors/0/select_all")));
    assert_string_equal(json_string_value(jget(j, "mirrors/0/output_port")),
                        "host0");
    assert_string_equal(json_string_value(
                            jget(j, "mirrors/0/select_dst_port/0")), "t1vm1");
    assert_int_equal(json_integer_value(jget(j, "stats/n_connects")), 0);
    text = json_dumps(j, JSON_COMPACT);
    assert_non_null(text);
    free(text);
    json_decref(j);
    inventory_destroy(inv);
}

static void
test_inventory_updates(void **state)
{
    struct changes changes = { 0 };
    struct inventory *inv = initial_inventory(&changes);
    const struct inv_interface *i;
    struct inventory_stats st;
    struct vnm_addr ad;
    uint64_t seq;

    (void) state;
    /* external_ids changed ("old" holds only that column). */
    seq = inventory_topology_seq(inv);
    assert_int_equal(receive(inv, update_tenant), 0);
    assert_int_equal(changes.n, 2);
    i = inventory_find_by_name(inv, "t1vm1");
    assert_string_equal(i->tenant, "tenantX");
    assert_int_equal(i->ofport, 2);
    assert_true(inventory_topology_seq(inv) > seq);

    /* A partial "new": the other columns stay. */
    seq = inventory_topology_seq(inv);
    assert_int_equal(receive(inv, update_partial), 0);
    i = inventory_find_by_name(inv, "t2vm1");
    assert_int_equal(i->ofport, 7);
    assert_int_equal(i->ifindex, 12);
    assert_string_equal(i->tenant, "tenant2");
    assert_null(inventory_find_by_ofport(inv, "br0", 3));
    assert_ptr_equal(inventory_find_by_ofport(inv, "br0", 7), i);
    assert_true(inventory_topology_seq(inv) > seq);

    /* Counters and link state only: the topology does not move. */
    seq = inventory_topology_seq(inv);
    assert_int_equal(receive(inv, update_stats), 0);
    i = inventory_find_by_name(inv, "host0");
    assert_int_equal(i->stats.rx_bytes, 150);
    assert_string_equal(i->link_state, "down");
    assert_int_equal(inventory_topology_seq(inv), seq);
    assert_int_equal(changes.n, 4);

    /* A port removed. */
    assert_int_equal(receive(inv, update_delete), 0);
    assert_null(inventory_find_by_name(inv, "t2vm1"));
    assert_null(inventory_find_by_ifindex(inv, 12));
    ad = addr("10.0.0.21");
    assert_null(inventory_find_by_ip(inv, &ad));
    assert_int_equal(inventory_n_interfaces(inv), 5);

    /* A port added, in two updates (its ofport comes later). */
    assert_int_equal(receive(inv, update_insert), 0);
    i = inventory_find_by_name(inv, "t1vm2");
    assert_non_null(i);
    assert_int_equal(i->ofport, 8);
    assert_int_equal(i->ifindex, 13);
    ad = addr("10.0.0.12");
    assert_ptr_equal(inventory_find_by_ip(inv, &ad), i);
    assert_int_equal(inventory_n_interfaces(inv), 6);

    inventory_get_stats(inv, &st);
    assert_int_equal(st.n_updates, 6);
    assert_int_equal(st.n_resyncs, 0);
    assert_int_equal(changes.n, 7);
    inventory_destroy(inv);
}

static void
test_inventory_resync(void **state)
{
    struct changes changes = { 0 };
    struct inventory *inv = initial_inventory(&changes);
    struct inventory_stats st;

    (void) state;
    assert_int_equal(receive(inv, resync), 0);
    assert_int_equal(inventory_n_interfaces(inv), 1);
    assert_string_equal(inventory_interface(inv, 0)->name, "host0");
    assert_null(inventory_find_by_name(inv, "t1vm1"));
    inventory_get_stats(inv, &st);
    assert_int_equal(st.n_resyncs, 1);
    assert_int_equal(changes.n, 2);
    inventory_destroy(inv);
}

/* After an ovsdb-server restart, the ephemeral columns are empty until
 * ovs-vswitchd writes them again: the last known values stay. */
static void
test_inventory_resync_ephemeral(void **state)
{
    static const char restarted[] = MONITOR_REPLY(
        "{'Bridge':{'b0':{'new':" BR0_PORTS("['uuid','p1'],['uuid','p2']")
        "}},"
        "'Port':{"
        "'p1':{'new':{'name':'t1vm1','interfaces':['uuid','i1']}},"
        "'p2':{'new':{'name':'t2vm1','interfaces':['uuid','iZ']}}},"
        "'Interface':{"
        "'i1':{'new':{'name':'t1vm1','type':''," NO_IDS ","
        "'ofport':['set',[]],'ifindex':['set',[]]}},"
        "'iZ':{'new':{'name':'t2vm1','type':''," NO_IDS ","
        "'ofport':['set',[]],'ifindex':['set',[]]}}}}");
    static const char rewritten[] = UPDATE(
        "{'Interface':{'i1':{'old':{'ofport':['set',[]]},"
        "'new':{'ofport':9,'statistics':['map',[['rx_bytes',1]]]}}}}");
    struct changes changes = { 0 };
    struct inventory *inv = initial_inventory(&changes);
    const struct inv_interface *i;

    (void) state;
    assert_int_equal(receive(inv, restarted), 0);
    assert_int_equal(inventory_n_interfaces(inv), 2);
    /* Same row: kept. */
    i = inventory_find_by_name(inv, "t1vm1");
    assert_int_equal(i->ofport, 2);
    assert_int_equal(i->ifindex, 11);
    assert_true(i->mac_valid);
    assert_int_equal(i->stats.rx_bytes, 300);
    assert_ptr_equal(inventory_find_by_ifindex(inv, 11), i);
    /* A new row of the same name: nothing to keep. */
    i = inventory_find_by_name(inv, "t2vm1");
    assert_int_equal(i->ofport, -1);
    assert_int_equal(i->ifindex, -1);
    assert_false(i->mac_valid);
    /* ovs-vswitchd writes again. */
    assert_int_equal(receive(inv, rewritten), 0);
    i = inventory_find_by_name(inv, "t1vm1");
    assert_int_equal(i->ofport, 9);
    assert_int_equal(i->ifindex, 11);
    assert_int_equal(i->stats.rx_bytes, 1);
    inventory_destroy(inv);
}

static void
test_inventory_protocol_errors(void **state)
{
    static const char *const bad[] = {
        "garbage",
        "{'id':null,'method':'update','params':['vnmon',[]]}",
        "{'id':null,'method':'update','params':['vnmon']}",
        "{'id':null,'method':3}",
        "{'result':{}}",
        "{'id':'monitor','error':'oops','result':null}",
        "{'id':'monitor','error':null,'result':[]}",
        "{'id':'monitor','error':null,'result':{'Port':{'x':{'new':1}}}}",
    };
    struct changes changes = { 0 };
    struct inventory *inv = initial_inventory(&changes);
    struct inventory_stats st;

    (void) state;
    for (size_t i = 0; i < VNM_ARRAY_SIZE(bad); i++) {
        assert_int_equal(receive(inv, bad[i]), EPROTO);
        /* Not synced; the last known state is kept. */
        assert_false(inventory_is_synced(inv));
        assert_int_equal(inventory_n_interfaces(inv), 6);
        /* An update now would be out of place. */
        assert_int_equal(receive(inv, update_tenant), EPROTO);
        /* A new monitor reply is a resync. */
        assert_int_equal(receive(inv, initial), 0);
        assert_true(inventory_is_synced(inv));
    }
    inventory_get_stats(inv, &st);
    assert_int_equal(st.n_protocol_errors, 2 * VNM_ARRAY_SIZE(bad));
    assert_int_equal(st.n_resyncs, VNM_ARRAY_SIZE(bad));

    /* Ignored: other monitors' updates, unknown notifications, replies to
     * other requests. */
    assert_int_equal(receive(inv, "{'id':null,'method':'update','params':"
                             "['other',{'X':{}}]}"
                             "{'id':null,'method':'locked','params':[]}"
                             "{'id':7,'result':{},'error':null}"), 0);
    assert_true(inventory_is_synced(inv));
    inventory_destroy(inv);
}

static void
test_inventory_odd_values(void **state)
{
    /* Bad MACs, IPs, keys; an interface shared by two ports; a port in
     * two bridges; a nameless port; a dangling reference. */
    static const char text[] = MONITOR_REPLY(
        "{'Bridge':{"
        "'b1':{'new':{'name':'br1','ports':['set',[['uuid','p1'],"
        "['uuid','p2'],['uuid','p3'],['uuid','nope']]]}},"
        "'b2':{'new':{'name':'br2','ports':['uuid','p1']}}},"
        "'Port':{"
        "'p1':{'new':{'name':'a','interfaces':['uuid','i1']}},"
        "'p2':{'new':{'name':'b','interfaces':['set',[['uuid','i1'],"
        "['uuid','i2']]]}},"
        "'p3':{'new':{'interfaces':['uuid','i3']}}},"
        "'Interface':{"
        "'i1':{'new':{'name':'x1','mac_in_use':'02:00:00:00:00:0',"
        "'external_ids':['map',[['vnmon-ips','10.0.0.300,, ,10.0.0.1/24,"
        "zz']]],'type':'gre','options':['map',[['key','flow'],"
        "['remote_ip','flow']]]}},"
        "'i2':{'new':{'name':'x2','mac_in_use':'02:00:00:00:00:0g',"
        "'external_ids':['map',[['vnmon-ips','']]],'type':'geneve',"
        "'options':['map',[['in_key','0x10']]],'ofport':-1}},"
        "'i3':{'new':{'name':'x3'}}}}");
    struct inventory *inv = inventory_create(NULL, NULL, NULL, NULL);
    const struct inv_interface *i;

    (void) state;
    assert_int_equal(receive(inv, text), 0);
    assert_int_equal(inventory_n_interfaces(inv), 2);
    i = inventory_find_by_name(inv, "x1");
    assert_string_equal(i->bridge, "br1");
    assert_string_equal(i->port, "a");
    assert_false(i->mac_valid);
    assert_int_equal(i->n_ips, 1);
    assert_int_equal(i->tunnel_type, INV_TUNNEL_GRE);
    assert_false(i->tunnel_key_valid);
    assert_string_equal(i->tunnel_key, "flow");
    assert_int_equal(i->tunnel_remote_ip.family, 0);
    i = inventory_find_by_name(inv, "x2");
    assert_string_equal(i->port, "b");
    assert_false(i->mac_valid);
    assert_int_equal(i->n_ips, 0);
    assert_int_equal(i->tunnel_type, INV_TUNNEL_GENEVE);
    assert_true(i->tunnel_key_valid);
    assert_int_equal(i->tunnel_key_value, 16);
    assert_int_equal(i->ofport, -1);
    assert_null(inventory_find_by_ofport(inv, "br1", -1));
    inventory_destroy(inv);
}

/* ------------------------------------------------- client on a socket */

/* A fake ovsdb-server: one listening socket, one connection at a time. */
struct server {
    char dir[64];
    char path[128];
    int listen_fd;
    int fd;                     /* The accepted connection, or -1. */
    struct ovsdb_stream *stream;
    json_t *received;           /* Messages from the client. */
    int n_accepted;
};

/* Listens on "DIR/db.sock", in a new temporary DIR if 'dir' is null. */
static void
server_listen_unix(struct server *s, const char *dir)
{
    struct sockaddr_un sun;

    memset(s, 0, sizeof *s);
    s->fd = -1;
    if (dir) {
        vnm_strlcpy(s->dir, dir, sizeof s->dir);
    } else {
        snprintf(s->dir, sizeof s->dir, "/tmp/vnm-test-ovsdb-XXXXXX");
        assert_non_null(mkdtemp(s->dir));
    }
    snprintf(s->path, sizeof s->path, "%s/db.sock", s->dir);
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(s->listen_fd >= 0);
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    vnm_strlcpy(sun.sun_path, s->path, sizeof sun.sun_path);
    assert_int_equal(bind(s->listen_fd, (struct sockaddr *) &sun,
                          sizeof sun), 0);
    assert_int_equal(listen(s->listen_fd, 4), 0);
    fcntl(s->listen_fd, F_SETFL, O_NONBLOCK);
    s->stream = ovsdb_stream_create(0);
    s->received = json_array();
}

/* Listens on 127.0.0.1 and returns the port. */
static int
server_listen_tcp(struct server *s)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;

    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->listen_fd >= 0);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->listen_fd, (struct sockaddr *) &sin,
                          sizeof sin), 0);
    assert_int_equal(listen(s->listen_fd, 4), 0);
    assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *) &sin,
                                 &len), 0);
    fcntl(s->listen_fd, F_SETFL, O_NONBLOCK);
    s->stream = ovsdb_stream_create(0);
    s->received = json_array();
    return ntohs(sin.sin_port);
}

static void
server_drop(struct server *s)
{
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    ovsdb_stream_reset(s->stream);
}

static void
server_close(struct server *s)
{
    server_drop(s);
    close(s->listen_fd);
    if (s->path[0]) {
        unlink(s->path);
        rmdir(s->dir);
    }
    ovsdb_stream_destroy(s->stream);
    json_decref(s->received);
}

/* Accepts and reads what is there. */
static void
server_poll(struct server *s)
{
    char buf[4096];
    ssize_t n;

    if (s->fd < 0) {
        s->fd = accept(s->listen_fd, NULL, NULL);
        if (s->fd < 0) {
            return;
        }
        fcntl(s->fd, F_SETFL, O_NONBLOCK);
        s->n_accepted++;
        ovsdb_stream_reset(s->stream);
    }
    while ((n = read(s->fd, buf, sizeof buf)) > 0) {
        json_t *msg;

        ovsdb_stream_feed(s->stream, buf, (size_t) n);
        while (!ovsdb_stream_next(s->stream, &msg) && msg) {
            json_array_append_new(s->received, msg);
        }
    }
    if (n == 0) {
        server_drop(s);         /* The client closed. */
    }
}

static void
server_send(struct server *s, const char *text)
{
    char *j = J(text);
    size_t n = strlen(j), off = 0;

    assert_true(s->fd >= 0);
    while (off < n) {
        ssize_t w = write(s->fd, j + off, n - off);

        if (w < 0) {
            assert_int_equal(errno, EAGAIN);
            usleep(1000);
            continue;
        }
        off += (size_t) w;
    }
    free(j);
}

/* The last message received with "method" 'method', or null. */
static const json_t *
server_last(const struct server *s, const char *method)
{
    for (size_t i = json_array_size(s->received); i-- > 0;) {
        const json_t *m = json_array_get(s->received, i);
        const char *x = json_string_value(json_object_get(m, "method"));

        if (x && !strcmp(x, method)) {
            return m;
        }
    }
    return NULL;
}

static size_t
server_count(const struct server *s, const char *method)
{
    size_t n = 0;

    for (size_t i = 0; i < json_array_size(s->received); i++) {
        const char *x = json_string_value(
            json_object_get(json_array_get(s->received, i), "method"));

        n += x && !strcmp(x, method);
    }
    return n;
}

typedef bool condition_func(struct server *, struct inventory *);

/* Runs the loop and the server until 'cond' holds, for at most
 * 'timeout_ms'.  Returns whether it held. */
static bool
pump(struct event_base *base, struct server *s, struct inventory *inv,
     condition_func *cond, uint64_t timeout_ms)
{
    uint64_t deadline = vnm_time_mono_ms() + timeout_ms;

    for (;;) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        server_poll(s);
        if (cond && cond(s, inv)) {
            return true;
        }
        if (vnm_time_mono_ms() >= deadline) {
            return !cond;
        }
        usleep(1000);
    }
}

static size_t expected_monitors;

static bool
got_monitor(struct server *s, struct inventory *inv)
{
    (void) inv;
    return s->fd >= 0 && server_count(s, "monitor") >= expected_monitors;
}

static bool
is_synced(struct server *s, struct inventory *inv)
{
    (void) s;
    return inventory_is_synced(inv);
}

static bool
is_unsynced(struct server *s, struct inventory *inv)
{
    (void) s;
    return !inventory_is_synced(inv);
}

static bool
got_echo_reply(struct server *s, struct inventory *inv)
{
    (void) inv;
    for (size_t i = 0; i < json_array_size(s->received); i++) {
        const json_t *m = json_array_get(s->received, i);
        const char *id = json_string_value(json_object_get(m, "id"));

        if (id && !strcmp(id, "e1") && json_object_get(m, "result")) {
            return true;
        }
    }
    return false;
}

static bool
has_t1vm2(struct server *s, struct inventory *inv)
{
    (void) s;
    return inventory_find_by_name(inv, "t1vm2") != NULL;
}

/* Waits for the client's monitor request number 'n' and checks it. */
static void
expect_monitor(struct event_base *base, struct server *s,
               struct inventory *inv, size_t n)
{
    const json_t *m, *params, *requests;

    expected_monitors = n;
    assert_true(pump(base, s, inv, got_monitor, 5000));
    m = server_last(s, "monitor");
    params = json_object_get(m, "params");
    assert_string_equal(json_string_value(json_array_get(params, 0)),
                        "Open_vSwitch");
    assert_string_equal(json_string_value(json_array_get(params, 1)),
                        "vnmon");
    assert_string_equal(json_string_value(json_object_get(m, "id")),
                        "monitor");
    requests = json_array_get(params, 2);
    assert_non_null(jget(requests, "Bridge/columns"));
    assert_non_null(jget(requests, "Port/columns"));
    assert_non_null(jget(requests, "Interface/columns"));
    assert_non_null(jget(requests, "Mirror/columns"));
    assert_int_equal(json_array_size(jget(requests, "Interface/columns")),
                     11);
}

static void
test_client_unix(void **state)
{
    struct event_base *base = event_base_new();
    struct changes changes = { 0 };
    struct inventory_stats st;
    struct inventory *inv;
    struct server s;
    char *remote;

    (void) state;
    server_listen_unix(&s, NULL);
    remote = xasprintf("unix:%s", s.path);
    inv = inventory_create(base, remote, count_change, &changes);
    ovsdb_client_set_backoff(inventory_ovsdb(inv), 20, 100);
    expect_monitor(base, &s, inv, 1);

    /* An echo request first, answered with its id and params. */
    server_send(&s, "{'id':'e1','method':'echo','params':['x',1]}");
    assert_true(pump(base, &s, inv, got_echo_reply, 5000));
    assert_false(inventory_is_synced(inv));

    /* The reply, in two pieces with a pause between. */
    {
        char *reply = J(initial);
        size_t half = strlen(reply) / 2;
        char saved = reply[half];

        reply[half] = '\0';
        server_send(&s, reply);
        pump(base, &s, inv, NULL, 20);
        assert_false(inventory_is_synced(inv));
        reply[half] = saved;
        server_send(&s, reply + half);
        free(reply);
    }
    assert_true(pump(base, &s, inv, is_synced, 5000));
    assert_int_equal(inventory_n_interfaces(inv), 6);
    assert_int_equal(changes.n, 1);

    /* Back-to-back updates in one write. */
    server_send(&s, update_insert);
    assert_true(pump(base, &s, inv, has_t1vm2, 5000));
    assert_int_equal(inventory_find_by_name(inv, "t1vm2")->ofport, 8);

    /* The server goes away: kept state, reconnection, full resync. */
    server_drop(&s);
    assert_true(pump(base, &s, inv, is_unsynced, 5000));
    assert_int_equal(inventory_n_interfaces(inv), 7);
    expect_monitor(base, &s, inv, 2);
    server_send(&s, resync);
    assert_true(pump(base, &s, inv, is_synced, 5000));
    assert_int_equal(inventory_n_interfaces(inv), 1);
    inventory_get_stats(inv, &st);
    assert_true(st.connected);
    assert_int_equal(st.n_connects, 2);
    assert_int_equal(st.n_reconnects, 1);
    assert_int_equal(st.n_disconnects, 1);
    assert_int_equal(st.n_resyncs, 1);
    assert_int_equal(st.n_updates, 2);

    /* Garbage: a protocol error, then the same again. */
    server_send(&s, "{'id':null}}}");
    assert_true(pump(base, &s, inv, is_unsynced, 5000));
    expect_monitor(base, &s, inv, 3);
    server_send(&s, initial);
    assert_true(pump(base, &s, inv, is_synced, 5000));
    inventory_get_stats(inv, &st);
    assert_int_equal(st.n_protocol_errors, 1);
    assert_int_equal(st.n_resyncs, 2);
    assert_int_equal(st.n_connects, 3);
    assert_int_equal(s.n_accepted, 3);

    /* A failed monitor request: also an error and a new attempt. */
    server_send(&s, "{'id':'monitor','error':{'error':'unknown column'},"
                "'result':null}");
    assert_true(pump(base, &s, inv, is_unsynced, 5000));
    expect_monitor(base, &s, inv, 4);

    inventory_destroy(inv);
    free(remote);
    server_close(&s);
    event_base_free(base);
}

static void
test_client_tcp_and_probe(void **state)
{
    struct event_base *base = event_base_new();
    struct inventory_stats st;
    struct inventory *inv;
    struct server s;
    char *remote;
    int port;

    (void) state;
    port = server_listen_tcp(&s);
    remote = xasprintf("tcp:127.0.0.1:%d", port);
    inv = inventory_create(base, remote, NULL, NULL);
    ovsdb_client_set_backoff(inventory_ovsdb(inv), 20, 100);
    ovsdb_client_set_probe(inventory_ovsdb(inv), 100);
    expect_monitor(base, &s, inv, 1);
    server_send(&s, initial);
    assert_true(pump(base, &s, inv, is_synced, 5000));

    /* Idle: the client probes with an echo; unanswered, it reconnects. */
    assert_true(pump(base, &s, inv, is_unsynced, 5000));
    assert_non_null(server_last(&s, "echo"));
    inventory_get_stats(inv, &st);
    assert_int_equal(st.n_disconnects, 1);
    expect_monitor(base, &s, inv, 2);
    inventory_destroy(inv);
    free(remote);
    server_close(&s);
    event_base_free(base);
}

static void
test_client_first_connect_fails(void **state)
{
    struct event_base *base = event_base_new();
    struct inventory_stats st;
    struct inventory *inv;
    struct server s;
    char dir[] = "/tmp/vnm-test-ovsdb-XXXXXX";
    char *remote, *path;

    (void) state;
    assert_non_null(mkdtemp(dir));
    path = xasprintf("%s/db.sock", dir);
    remote = xasprintf("unix:%s", path);
    inv = inventory_create(base, remote, NULL, NULL);
    ovsdb_client_set_backoff(inventory_ovsdb(inv), 20, 40);
    {
        uint64_t until = vnm_time_mono_ms() + 150;

        while (vnm_time_mono_ms() < until) {
            event_base_loop(base, EVLOOP_NONBLOCK);
            usleep(1000);
        }
    }
    inventory_get_stats(inv, &st);
    assert_false(st.connected);
    assert_true(st.n_disconnects >= 2);
    assert_int_equal(st.n_connects, 0);

    /* The server appears: connected, not a resync. */
    server_listen_unix(&s, dir);
    expect_monitor(base, &s, inv, 1);
    server_send(&s, initial);
    assert_true(pump(base, &s, inv, is_synced, 5000));
    inventory_get_stats(inv, &st);
    assert_int_equal(st.n_connects, 1);
    assert_int_equal(st.n_reconnects, 1);
    assert_int_equal(st.n_resyncs, 0);
    inventory_destroy(inv);
    free(remote);
    free(path);
    server_close(&s);
    event_base_free(base);
}

static void
test_remote_valid(void **state)
{
    (void) state;
    assert_true(ovsdb_remote_valid("unix:/run/openvswitch/db.sock"));
    assert_true(ovsdb_remote_valid("tcp:127.0.0.1:6640"));
    assert_true(ovsdb_remote_valid("tcp:[::1]:6640"));
    assert_true(ovsdb_remote_valid(OVSDB_DEFAULT_REMOTE));
    assert_false(ovsdb_remote_valid(NULL));
    assert_false(ovsdb_remote_valid(""));
    assert_false(ovsdb_remote_valid("unix:"));
    assert_false(ovsdb_remote_valid("tcp:127.0.0.1"));
    assert_false(ovsdb_remote_valid("tcp:127.0.0.1:0"));
    assert_false(ovsdb_remote_valid("tcp:host.example:6640"));
    assert_false(ovsdb_remote_valid("ssl:127.0.0.1:6640"));
    assert_false(ovsdb_remote_valid("/run/openvswitch/db.sock"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_back_to_back),
        cmocka_unit_test(test_stream_partial),
        cmocka_unit_test(test_stream_garbage),
        cmocka_unit_test(test_stream_too_big),
        cmocka_unit_test(test_stream_whitespace),
        cmocka_unit_test(test_datum),
        cmocka_unit_test(test_replica_apply),
        cmocka_unit_test(test_inventory_initial),
        cmocka_unit_test(test_inventory_json),
        cmocka_unit_test(test_inventory_updates),
        cmocka_unit_test(test_inventory_resync),
        cmocka_unit_test(test_inventory_resync_ephemeral),
        cmocka_unit_test(test_inventory_protocol_errors),
        cmocka_unit_test(test_inventory_odd_values),
        cmocka_unit_test(test_client_unix),
        cmocka_unit_test(test_client_tcp_and_probe),
        cmocka_unit_test(test_client_first_connect_fails),
        cmocka_unit_test(test_remote_valid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
