"""Where make bench and make bench-xdp put the relays and the load.

Loopback (make bench): everything in the caller's network namespace on
127.0.0.0/8. Veth (make bench-xdp): two network namespaces created for the
run, joined by a veth pair,

    client/peer namespace                 relay namespace
    clients 10.78.R.C (a local route)     relays 10.77.0.2
    peers   10.77.0.3      ---- veth ---- (turncell, coturn)
    10.77.0.1

so that every relayed packet crosses the veth twice per direction and the
relay's XDP program (turncell --xdp) sees it on the relay side. The
namespaces and the link are named after this process's PID, so two runs
never share them, and remove() deletes only what create() made.
"""

import ctypes
import json
import os
import socket
import subprocess

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
XDP_PASS = os.path.join(ROOT, "build", "test", "xdp-pass")
CLONE_NEWNET = 0x40000000


class Loopback:
    kind = "loopback"
    listen_ip = relay_ip = "127.0.0.1"
    peer_ip = "127.0.0.2"
    allow_peer = "127.0.0.0/8"
    server_prefix = tool_prefix = []
    xdp_iface = None
    # coturn has no --port-file: a port the kernel just gave out
    fixed_port = None

    def create(self):
        pass

    def remove(self):
        pass

    def client_ip(self, run):
        """each run's clients on an address of their own"""
        return "127.1.%d.%d" % (run // 250, run % 250 + 1)

    def udp_socket(self):
        return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def counters(self):
        return None

    # make bench leaves turncell's health listener off
    health_addr = "none"

    def describe(self):
        return "loopback"


def _run(argv):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(argv), r.stderr.strip()))
    return r.stdout


class Veth:
    kind = "veth"
    listen_ip = relay_ip = "10.77.0.2"
    client_net = "10.78.0.0/16"
    peer_ip = "10.77.0.3"
    allow_peer = "10.77.0.0/24"
    # the namespaces are the run's own: the standard port is free
    fixed_port = 3478

    def __init__(self, tag=None):
        tag = tag or str(os.getpid())
        self.ns_tool, self.ns_relay = "tcxb%sc" % tag, "tcxb%sr" % tag
        self.if_tool, self.if_relay = "xbc%s" % tag, "xbr%s" % tag
        self.server_prefix = ["ip", "netns", "exec", self.ns_relay]
        self.tool_prefix = ["ip", "netns", "exec", self.ns_tool]
        self.xdp_iface = self.if_relay
        self.made = []
        self.xdp_pass = None	# why not, when the pass program is missing

    def create(self):
        """the two namespaces and the veth; raises RuntimeError (after
        removing what it made) when something cannot be set up"""
        try:
            for ns in (self.ns_tool, self.ns_relay):
                _run(["ip", "netns", "add", ns])
                self.made.append(ns)
            # both ends born in their namespaces: nothing appears in the
            # caller's namespace, and deleting the namespaces removes it
            _run(["ip", "link", "add", self.if_tool, "netns", self.ns_tool,
                  "type", "veth", "peer", "name", self.if_relay, "netns",
                  self.ns_relay])
            t, r = self.tool_prefix, self.server_prefix
            for p, ifc, addrs in ((t, self.if_tool, ["10.77.0.1/24",
                                                     self.peer_ip + "/24"]),
                                  (r, self.if_relay, [self.relay_ip + "/24"])):
                _run(p + ["ip", "link", "set", "lo", "up"])
                for a in addrs:
                    _run(p + ["ip", "addr", "add", a, "dev", ifc])
                _run(p + ["ip", "link", "set", ifc, "up"])
            # clients anywhere in 10.78/16 (every run its own address),
            # routed back through the client side of the veth
            _run(t + ["ip", "route", "add", "local", self.client_net,
                      "dev", "lo"])
            _run(r + ["ip", "route", "add", self.client_net, "via",
                      "10.77.0.1"])
            # a real wire delivers finished checksums; with offload on,
            # the relay side would see partial ones
            _run(t + ["ethtool", "-K", self.if_tool, "tx", "off"])
            # frames the relay side sends with XDP_TX are accepted by a
            # veth only if it has an XDP program itself
            if os.access(XDP_PASS, os.X_OK):
                _run(t + [XDP_PASS, self.if_tool])
            else:
                self.xdp_pass = "%s not built" % XDP_PASS
        except (RuntimeError, OSError, subprocess.TimeoutExpired):
            self.remove()
            raise

    def remove(self):
        """deletes the namespaces this object made (the veth goes with
        them); never raises"""
        for ns in reversed(self.made):
            subprocess.run(["ip", "netns", "del", ns],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
        self.made = []

    def client_ip(self, run):
        return "10.78.%d.%d" % (run // 250, run % 250 + 1)

    # the relay's /metrics, on the relay namespace's own loopback
    health_addr = "127.0.0.1:0"

    def udp_socket(self):
        """a UDP socket in the client/peer namespace"""
        return self.socket_in(self.ns_tool, socket.SOCK_DGRAM)

    def tcp_socket(self):
        """a TCP socket in the relay namespace"""
        return self.socket_in(self.ns_relay, socket.SOCK_STREAM)

    @staticmethod
    def socket_in(ns, kind):
        """a socket in namespace ns (a socket stays in the namespace it
        was made in; this thread goes back to its own at once)"""
        libc = ctypes.CDLL(None, use_errno=True)
        own = os.open("/proc/self/ns/net", os.O_RDONLY)
        there = os.open("/run/netns/" + ns, os.O_RDONLY)
        try:
            if libc.setns(there, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
            try:
                return socket.socket(socket.AF_INET, kind)
            finally:
                if libc.setns(own, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns back")
        finally:
            os.close(own)
            os.close(there)

    def counters(self):
        """packets and bytes the client/peer side of the veth received
        and sent (every packet between the load and the relays crosses
        it). A GSO batch counts as one packet, with one set of headers,
        so only the payload bytes are a sure lower bound."""
        st = json.loads(_run(["ip", "-n", self.ns_tool, "-j", "-s", "link",
                              "show", "dev", self.if_tool]))[0]["stats64"]
        return {"tool_side_rx": st["rx"]["packets"],
                "tool_side_tx": st["tx"]["packets"],
                "tool_side_rx_bytes": st["rx"]["bytes"],
                "tool_side_tx_bytes": st["tx"]["bytes"]}

    def describe(self):
        return ("namespaces %s (clients, peers) and %s (relays), veth "
                "%s/%s, tx checksum offload off on %s, %s" % (
                    self.ns_tool, self.ns_relay, self.if_tool,
                    self.if_relay, self.if_tool,
                    "XDP_PASS attached to " + self.if_tool
                    if self.xdp_pass is None else self.xdp_pass))
