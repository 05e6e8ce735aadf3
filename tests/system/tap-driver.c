/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tap-driver: runs one tap (netdev or flow, ovs-ext/tap-*.h) with worker
 * threads, for the system tests tests/system/test-tap-*.sh.  Run it in the
 * network namespace of ovs-vswitchd:
 *
 *   tap-driver --mode=netdev|flow --bridge=BR --db=DB_SOCKET
 *              --rundir=OVS_RUNDIR --out=FILE --log=FILE [--workers=N]
 *              [--cookie=C] [--priority=P] [--register=NXM_NX_REG15[31]]
 *              [--monitor-port=NAME] [--quiet] [--verbose]
 *
 * It takes the bridge's system interfaces (type "", i.e. the VM veths) from
 * ovs-vsctl at start and on SIGHUP, and writes to FILE one line per
 * captured frame:
 *
 *   frame port=t1vm1 ofport=2 ifindex=5 worker=0 len=102 tags=8100:7
 *         src=02:00:00:00:01:01 dst=02:00:00:00:01:02 type=0x0800
 *         ip=10.0.0.11>10.0.0.12 proto=1 icmp=8 id=77 seq=1
 *
 * ("tags=-" if none; "meta=TPID:VID" if the kernel kept a tag in metadata
 * only), "ready" once the tap is in place, and on SIGUSR1 and at exit its
 * counters as "stat ..." lines.  The flow tap is reconciled every second.
 * SIGTERM or SIGINT stops it (the flow tap then removes itself from OVS).
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/util.h"
#include "ovs-ext/tap-flow.h"
#include "ovs-ext/tap-netdev.h"

VNM_LOG_MODULE(tap_driver);

static struct tap_netdev *netdev_tap;
static struct tap_flow *flow_tap;
static atomic_bool stop_workers;
static FILE *out_file;
static pthread_mutex_t out_mutex = PTHREAD_MUTEX_INITIALIZER;
static const char *bridge = "br0";
static const char *db_path;
static bool quiet;              /* No "frame" lines (for measurements). */

static void
out_line(const char *format, ...) VNM_PRINTF(1, 2);

static void
out_line(const char *format, ...)
{
    va_list args;

    pthread_mutex_lock(&out_mutex);
    va_start(args, format);
    vfprintf(out_file, format, args);
    va_end(args);
    fputc('\n', out_file);
    fflush(out_file);
    pthread_mutex_unlock(&out_mutex);
}

static void
format_mac(const uint8_t *p, char buf[18])
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
             p[0], p[1], p[2], p[3], p[4], p[5]);
}

/* One captured frame: a "frame" line. */
static void
on_frame(void *aux, const struct tap_frame *f, const struct tap_port *port)
{
    size_t worker = (size_t) (uintptr_t) aux;
    char tags[128] = "", meta[32] = "", l3[160] = "";
    char src[18], dst[18];
    const uint8_t *p = f->data;
    size_t off = 12, tlen = 0;
    uint16_t type;

    if (quiet) {
        return;
    }
    if (f->caplen < 14) {
        out_line("frame port=%s short len=%"PRIu32, port->name, f->caplen);
        return;
    }
    format_mac(p, dst);
    format_mac(p + 6, src);
    type = (p[off] << 8) | p[off + 1];
    while ((type == 0x8100 || type == 0x88a8 || type == 0x9100)
           && off + 6 <= f->caplen) {
        tlen += snprintf(tags + tlen, sizeof tags - tlen, "%s%04x:%d",
                         tlen ? "," : "", type,
                         ((p[off + 2] << 8) | p[off + 3]) & 0xfff);
        off += 4;
        type = (p[off] << 8) | p[off + 1];
        if (tlen >= sizeof tags - 16) {
            break;
        }
    }
    off += 2;
    if (type == 0x0800 && off + 20 <= f->caplen) {
        const uint8_t *ip = p + off;
        size_t ihl = (ip[0] & 15) * 4;
        size_t n;

        n = snprintf(l3, sizeof l3, " ip=%d.%d.%d.%d>%d.%d.%d.%d proto=%d",
                     ip[12], ip[13], ip[14], ip[15], ip[16], ip[17], ip[18],
                     ip[19], ip[9]);
        if (ip[9] == 1 && off + ihl + 8 <= f->caplen) {
            const uint8_t *icmp = ip + ihl;

            snprintf(l3 + n, sizeof l3 - n, " icmp=%d id=%d seq=%d",
                     icmp[0], (icmp[4] << 8) | icmp[5],
                     (icmp[6] << 8) | icmp[7]);
        }
    }
    if (f->vlan_valid && !f->vlan_inline) {
        snprintf(meta, sizeof meta, " meta=%04x:%d", f->vlan_tpid,
                 f->vlan_tci & 0xfff);
    }
    out_line("frame port=%s ofport=%d ifindex=%d worker=%zu len=%"PRIu32
             " tags=%s%s src=%s dst=%s type=0x%04x%s",
             port->name, port->ofport, port->ifindex, worker, f->wire_len,
             tlen ? tags : "-", meta, src, dst, type, l3);
}

static void *
worker_main(void *aux)
{
    static struct vnm_rate_limit rl = VNM_RATE_LIMIT_INIT(10, 5);
    size_t worker = (size_t) (uintptr_t) aux;

    while (!atomic_load(&stop_workers)) {
        int n = (netdev_tap
                 ? tap_netdev_poll(netdev_tap, worker, 100, on_frame, aux)
                 : tap_flow_poll(flow_tap, worker, 100, on_frame, aux));

        if (n < 0) {
            VNM_INFO_RL(&rl, "worker %zu: poll: %s", worker, strerror(-n));
        }
    }
    return NULL;
}

/* Reads the bridge's system interfaces from OVSDB.  Returns the number of
 * ports stored in '*portsp' (malloc'd). */
static size_t
get_ports(struct tap_port **portsp)
{
    char *db = xasprintf("--db=unix:%s", db_path);
    char *list_argv[] = {
        (char *) "ovs-vsctl", db, (char *) "--timeout=5",
        (char *) "list-ports", (char *) bridge, NULL,
    };
    char *iface_argv[] = {
        (char *) "ovs-vsctl", db, (char *) "--timeout=5",
        (char *) "--format=csv", (char *) "--data=bare",
        (char *) "--no-headings",
        (char *) "--columns=name,ifindex,ofport,type",
        (char *) "list", (char *) "Interface", NULL,
    };
    struct tap_port *ports = NULL;
    char *names = NULL, *rows = NULL, *line, *save = NULL;
    size_t n = 0;
    int error;

    error = tap_flow_exec(list_argv, NULL, 10000, &names, NULL);
    if (!error) {
        error = tap_flow_exec(iface_argv, NULL, 10000, &rows, NULL);
    }
    if (error) {
        VNM_ERR("ovs-vsctl failed (%s)", strerror(error));
        goto out;
    }
    for (line = strtok_r(rows, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char name[64], type[64] = "";
        char needle[80];
        int ifindex, ofport;

        if (sscanf(line, "%63[^,],%d,%d,%63s", name, &ifindex, &ofport,
                   type) < 3 || type[0]) {
            continue;
        }
        snprintf(needle, sizeof needle, "\n%s\n", name);
        {
            char *list = xasprintf("\n%s", names);

            if (!strstr(list, needle)) {
                free(list);
                continue;
            }
            free(list);
        }
        ports = xrealloc(ports, (n + 1) * sizeof *ports);
        memset(&ports[n], 0, sizeof ports[n]);
        vnm_strlcpy(ports[n].name, name, sizeof ports[n].name);
        vnm_strlcpy(ports[n].bridge, bridge, sizeof ports[n].bridge);
        ports[n].ifindex = ifindex;
        ports[n].ofport = ofport;
        VNM_INFO("port %s: ifindex %d, ofport %d", name, ifindex, ofport);
        n++;
    }

out:
    free(db);
    free(names);
    free(rows);
    *portsp = ports;
    return n;
}

static void
set_ports(void)
{
    struct tap_port *ports;
    size_t n = get_ports(&ports);
    int error;

    error = (netdev_tap ? tap_netdev_set_ports(netdev_tap, ports, n)
             : tap_flow_set_ports(flow_tap, ports, n));
    if (error) {
        VNM_ERR("setting %zu ports: %s", n, strerror(error));
    }
    if (flow_tap) {
        tap_flow_run(flow_tap);
    }
    free(ports);
}

static void
print_stats(void)
{
    struct tap_port_stats *ps;
    struct tap_flow_stats fs;
    struct tap_stats *s = &fs.tap;
    size_t n, i;

    memset(&fs, 0, sizeof fs);
    if (netdev_tap) {
        tap_netdev_get_stats(netdev_tap, s);
        n = tap_netdev_get_port_stats(netdev_tap, &ps);
    } else {
        tap_flow_get_stats(flow_tap, &fs);
        n = tap_flow_get_port_stats(flow_tap, &ps);
    }
    for (i = 0; i < n; i++) {
        out_line("stat port=%s ofport=%d ifindex=%d idx=%d packets=%"PRIu64
                 " bytes=%"PRIu64, ps[i].port.name, ps[i].port.ofport,
                 ps[i].port.ifindex, ps[i].idx, ps[i].packets,
                 ps[i].bytes);
    }
    free(ps);
    out_line("stat tap packets=%"PRIu64" bytes=%"PRIu64" ring_packets=%"
             PRIu64" ring_drops=%"PRIu64" freeze=%"PRIu64" unknown=%"PRIu64
             " untagged=%"PRIu64" ports=%zu", s->packets, s->bytes,
             s->ring_packets, s->ring_drops, s->ring_freeze_q_cnt,
             s->n_unknown, s->n_untagged, s->n_ports);
    if (flow_tap) {
        out_line("stat flow reinstalls=%"PRIu64" recreated=%"PRIu64
                 " in_sync=%d priority=%d rules=%zu monitor=%s "
                 "monitor_ofport=%d monitor_ifindex=%d", fs.n_reinstalls,
                 fs.n_monitor_recreated, fs.in_sync, fs.priority, fs.n_rules,
                 fs.monitor_port, fs.monitor_ofport, fs.monitor_ifindex);
    }
}

static void
usage(void)
{
    printf("usage: %s --mode=netdev|flow --bridge=BR --db=SOCKET "
           "--rundir=DIR --out=FILE --log=FILE\n"
           "          [--workers=N] [--cookie=C] [--priority=P] "
           "[--register=NXM_NX_REG15[31]]\n"
           "          [--monitor-port=NAME] [--quiet] [--verbose]\n",
           vnm_program_name);
}

int
main(int argc, char *argv[])
{
    static const struct option options[] = {
        { "mode", required_argument, NULL, 'm' },
        { "bridge", required_argument, NULL, 'b' },
        { "db", required_argument, NULL, 'd' },
        { "rundir", required_argument, NULL, 'r' },
        { "out", required_argument, NULL, 'o' },
        { "log", required_argument, NULL, 'l' },
        { "workers", required_argument, NULL, 'w' },
        { "cookie", required_argument, NULL, 'c' },
        { "priority", required_argument, NULL, 'p' },
        { "register", required_argument, NULL, 'R' },
        { "monitor-port", required_argument, NULL, 'M' },
        { "verbose", no_argument, NULL, 'v' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct tap_flow_config fc;
    const char *mode = NULL, *out_path = NULL, *log_path = NULL;
    pthread_t *threads;
    size_t n_workers = 2, i;
    uint64_t next_run = 0;
    bool ready = false;
    sigset_t sigs;
    int c, error;

    vnm_set_program_name(argv[0]);
    tap_flow_config_init(&fc);
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        char *err;

        switch (c) {
        case 'm': mode = optarg; break;
        case 'b': bridge = optarg; break;
        case 'd': db_path = optarg; break;
        case 'r': fc.rundir = optarg; break;
        case 'o': out_path = optarg; break;
        case 'l': log_path = optarg; break;
        case 'w': n_workers = strtoul(optarg, NULL, 10); break;
        case 'c': fc.cookie = strtoull(optarg, NULL, 0); break;
        case 'p': fc.priority = atoi(optarg); break;
        case 'M': fc.monitor_port = optarg; break;
        case 'q': quiet = true; break;
        case 'v':
            err = vnm_log_set_levels("dbg");
            free(err);
            break;
        case 'R':
            err = tap_flow_parse_register(optarg, &fc.reg, &fc.reg_bit);
            if (err) {
                vnm_fatal("%s", err);
            }
            break;
        case 'h': usage(); return 0;
        default: usage(); return 2;
        }
    }
    if (!mode || !db_path || !out_path || !log_path || !n_workers
        || (strcmp(mode, "netdev") && strcmp(mode, "flow"))) {
        usage();
        return 2;
    }
    error = vnm_log_open(log_path, "tap-driver");
    if (error) {
        vnm_fatal("%s: %s", log_path, strerror(error));
    }
    out_file = fopen(out_path, "a");
    if (!out_file) {
        vnm_fatal("%s: %s", out_path, strerror(errno));
    }

    /* Signals are taken synchronously by the main thread. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGUSR1);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    if (!strcmp(mode, "netdev")) {
        struct tap_netdev_config nc;

        tap_netdev_config_init(&nc);
        nc.n_workers = n_workers;
        error = tap_netdev_create(&nc, &netdev_tap);
    } else {
        fc.bridge = bridge;
        fc.db_path = db_path;
        fc.n_workers = n_workers;
        error = tap_flow_create(&fc, &flow_tap);
    }
    if (error) {
        VNM_ERR("creating the %s tap: %s", mode, strerror(error));
        return 1;
    }
    VNM_INFO("%s tap on bridge %s, %zu workers", mode, bridge, n_workers);
    set_ports();

    threads = xcalloc(n_workers, sizeof *threads);
    for (i = 0; i < n_workers; i++) {
        pthread_create(&threads[i], NULL, worker_main,
                       (void *) (uintptr_t) i);
    }

    for (;;) {
        struct timespec ts = { 0, 200 * 1000 * 1000 };
        uint64_t now = vnm_time_mono_ms();
        int sig;

        if (now >= next_run) {
            next_run = now + 1000;
            if (flow_tap) {
                struct tap_flow_stats fs;

                tap_flow_run(flow_tap);
                tap_flow_get_stats(flow_tap, &fs);
                if (!ready && fs.in_sync) {
                    ready = true;
                    out_line("ready");
                }
            } else if (!ready) {
                ready = true;
                out_line("ready");
            }
        }
        sig = sigtimedwait(&sigs, NULL, &ts);
        if (sig == SIGHUP) {
            VNM_INFO("SIGHUP: reading ports again");
            set_ports();
        } else if (sig == SIGUSR1) {
            print_stats();
        } else if (sig == SIGTERM || sig == SIGINT) {
            VNM_INFO("signal %d: exiting", sig);
            break;
        }
    }

    atomic_store(&stop_workers, true);
    for (i = 0; i < n_workers; i++) {
        pthread_join(threads[i], NULL);
    }
    free(threads);
    print_stats();
    out_line("exit");
    tap_netdev_destroy(netdev_tap);
    tap_flow_destroy(flow_tap);
    fclose(out_file);
    vnm_log_close();
    return 0;
}
