#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
#
# Receivers on loopback for the system test of the alert sinks
# (tests/system/test-alerting.sh): one process serving, on 127.0.0.1,
#
#   --http PORT     a webhook receiver: every POST is appended to
#                   DIR/http.jsonl as {"path": ..., "headers": {...},
#                   "body": <the body, parsed as JSON if it is JSON>},
#                   answered 200 once written;
#   --smtp PORT     an SMTP server (aiosmtpd, Debian's python3-aiosmtpd):
#                   every message is appended to DIR/smtp.jsonl as
#                   {"mail_from", "rcpt_tos", "subject", "message_id",
#                   "body", "record"} where "record" is the alert record
#                   that ends the body (a line of JSON), or null;
#   --syslog PORT   a UDP syslog receiver: every datagram is appended to
#                   DIR/syslog.jsonl as {"msg": <the datagram as text>}.
#
# Each item is written with one write() on a file opened with O_APPEND, so
# a reader never sees half a line.  The addresses are reused at once, so a
# receiver stopped (SIGTERM or SIGKILL) can be restarted on the same ports.
# Writes DIR/ready-PID once everything listens.

import argparse
import email
import email.policy
import http.server
import json
import os
import socket
import threading

ap = argparse.ArgumentParser()
ap.add_argument("--dir", required=True)
ap.add_argument("--http", type=int)
ap.add_argument("--smtp", type=int)
ap.add_argument("--syslog", type=int)
args = ap.parse_args()


def put(name, item):
    fd = os.open(os.path.join(args.dir, name),
                 os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(item) + "\n").encode())
    finally:
        os.close(fd)


def parse_json(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        put("http.jsonl", {"path": self.path, "headers": dict(self.headers),
                           "body": parse_json(body.decode())})
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


class Mail:
    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content,
                                       policy=email.policy.default)
        body = msg.get_body(("plain",)).get_content()
        lines = [l for l in body.splitlines() if l.startswith("{")]
        put("smtp.jsonl", {"mail_from": envelope.mail_from,
                           "rcpt_tos": envelope.rcpt_tos,
                           "subject": str(msg["Subject"]),
                           "message_id": str(msg["Message-ID"]),
                           "body": body,
                           "record": parse_json(lines[-1]) if lines
                           else None})
        return "250 Message accepted for delivery"


def syslog_loop(sock):
    while True:
        data, _ = sock.recvfrom(65536)
        put("syslog.jsonl", {"msg": data.decode("utf-8", "replace")})


if args.smtp:
    from aiosmtpd.controller import Controller
    controller = Controller(Mail(), hostname="127.0.0.1", port=args.smtp)
    controller.start()
if args.syslog:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    udp.bind(("127.0.0.1", args.syslog))
    threading.Thread(target=syslog_loop, args=(udp,), daemon=True).start()
server = None
if args.http:
    http.server.ThreadingHTTPServer.allow_reuse_address = True
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.http), Hook)
open(os.path.join(args.dir, "ready-%d" % os.getpid()), "w").close()
if server:
    server.serve_forever()
else:
    threading.Event().wait()
