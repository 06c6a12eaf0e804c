#!/usr/bin/env python3
#
# derive.py: an independent STUN/TURN encoder that re-derives the byte-exact
# vectors of the Firezone relay (2024-04: its recorded regression-test
# messages and the V1-V5 exchange in its format) and then derives
# turncell's versions of them: our nonce format, SOFTWARE first and
# MESSAGE-INTEGRITY in every signed response, REALM before NONCE.
#
# Python 3 standard library only. It shares no code with common/*.c: the
# point is an independent second implementation. Run it with no arguments;
# it first checks the Firezone relay's historic vectors (and exits 1 if one of
# them is not reproduced), then prints turncell's vectors as hex, one per
# line, with comments. With --c it prints them as C string literals:
# t/21-turn-vectors.c carries a copy of that output. With --check FILE it
# prints TAP instead: one test per historic vector, then one per vector
# of ours that FILE must hold with exactly these bytes
# (t/21-vectors-derive.sh runs it on t/21-turn-vectors.c in make check).
#
# Setup (all-zero RNG): secret = 64 x '0', nonce key = 32 zero bytes, first
# port 49152; relay public addresses 203.0.113.1 and 2001:db8::1 (dual
# stack), client 198.51.100.7:40000, username 4102444800:abcdefghij,
# SOFTWARE "turncell/test", now_ms = 1000000 (now_s = 1000) and
# wall_s = 1700000000 for every vector.

import base64
import hashlib
import hmac
import ipaddress
import re
import struct
import sys
import zlib

MAGIC = 0x2112A442
FP_XOR = 0x5354554E

# methods and classes
BINDING, ALLOCATE, REFRESH, CREATE_PERMISSION, CHANNEL_BIND = 1, 3, 4, 8, 9
REQUEST, INDICATION, SUCCESS, ERROR = 0, 1, 2, 3

# attributes
A_MAPPED = 0x0001
A_USERNAME = 0x0006
A_MI = 0x0008
A_ERROR_CODE = 0x0009
A_UNKNOWN = 0x000A
A_CHANNEL = 0x000C
A_LIFETIME = 0x000D
A_PEER = 0x0012
A_REALM = 0x0014
A_NONCE = 0x0015
A_RELAYED = 0x0016
A_REQ_FAMILY = 0x0017
A_TRANSPORT = 0x0019
A_XMAPPED = 0x0020
A_ADD_FAMILY = 0x8000
A_SOFTWARE = 0x8022
A_FINGERPRINT = 0x8028

REASONS = {
    300: "Try Alternate", 400: "Bad Request", 401: "Unauthorized",
    403: "Forbidden", 420: "Unknown Attribute", 437: "Allocation Mismatch",
    438: "Stale Nonce", 440: "Address Family not Supported",
    441: "Wrong Credentials", 442: "Unsupported Transport Protocol",
    443: "Peer Address Family Mismatch", 486: "Allocation Quota Reached",
    508: "Insufficient Capacity",
}

REALM = b"firezone"


def msg_type(method, cls):
    """Interleave the 12-bit method and the 2-bit class (RFC 8489 §5)."""
    return ((method & 0x0F80) << 2) | ((method & 0x0070) << 1) | \
        (method & 0x000F) | ((cls & 2) << 7) | ((cls & 1) << 4)


def tid_seq(first):
    """The V1-V5 transaction ids: first, first+1, ..., first+11."""
    return bytes(range(first, first + 12))


class Msg:
    """A STUN message under construction: a list of raw attributes."""

    def __init__(self, method, cls, tid):
        self.method, self.cls, self.tid = method, cls, tid
        self.body = b""

    def attr(self, atype, value):
        pad = (4 - len(value) % 4) % 4
        self.body += struct.pack(">HH", atype, len(value)) + value + \
            b"\0" * pad
        return self

    def header(self, body_len):
        return struct.pack(">HHI", msg_type(self.method, self.cls),
                           body_len, MAGIC) + self.tid

    # typed attributes
    def u32(self, atype, v):
        return self.attr(atype, struct.pack(">I", v))

    def xaddr(self, atype, ip, port):
        a = ipaddress.ip_address(ip)
        xport = port ^ (MAGIC >> 16)
        if a.version == 4:
            xip = int(a) ^ MAGIC
            return self.attr(atype, struct.pack(">BBHI", 0, 1, xport, xip))
        key = struct.pack(">I", MAGIC) + self.tid
        xip = bytes(x ^ y for x, y in zip(a.packed, key))
        return self.attr(atype, struct.pack(">BBH", 0, 2, xport) + xip)

    def plain_addr(self, atype, ip, port):
        a = ipaddress.ip_address(ip)
        fam = 1 if a.version == 4 else 2
        return self.attr(atype, struct.pack(">BBH", 0, fam, port) + a.packed)

    def error(self, code, bare=False):
        reason = b"" if bare else REASONS[code].encode()
        return self.attr(A_ERROR_CODE, struct.pack(">HBB", 0, code // 100,
                                                   code % 100) + reason)

    def transport(self, proto=17):
        return self.attr(A_TRANSPORT, struct.pack(">B3x", proto))

    def family(self, atype, fam):
        return self.attr(atype, struct.pack(">B3x", fam))

    def channel(self, chan):
        return self.attr(A_CHANNEL, struct.pack(">HH", chan, 0))

    def mi(self, key):
        """MESSAGE-INTEGRITY over everything so far, length as if MI were
        the last attribute (RFC 8489 §14.5)."""
        mac = hmac.new(key, self.header(len(self.body) + 24) + self.body,
                       hashlib.sha1).digest()
        return self.attr(A_MI, mac)

    def fingerprint(self):
        crc = zlib.crc32(self.header(len(self.body) + 8) + self.body)
        return self.u32(A_FINGERPRINT, (crc ^ FP_XOR) & 0xFFFFFFFF)

    def bytes(self):
        return self.header(len(self.body)) + self.body

    def hex(self):
        return self.bytes().hex()


def password(expiry, secret, salt):
    """Firezone password: unpadded base64 of SHA-256("expiry:secret:salt")."""
    d = hashlib.sha256(("%d:%s:%s" % (expiry, secret, salt)).encode())
    return base64.b64encode(d.digest()).decode().rstrip("=")


def lt_key(user, pw):
    """Long-term key MD5(username ":" realm ":" password)."""
    return hashlib.md5(user.encode() + b":" + REALM + b":" +
                       pw.encode()).digest()


def nonce(key, ip, port, now_s):
    """turncell's stateless nonce (auth.h): 8 hex of now_s mod 2^32, then 24
    hex of HMAC-SHA256(key, "tcn1" || ts(8) || family(1) || port(2) || ip(16))
    where ts is that 32-bit value as a 64-bit big-endian number."""
    a = ipaddress.ip_address(ip)
    ip16 = a.packed + b"\0" * (16 - len(a.packed))
    fam = 4 if a.version == 4 else 6
    now_s &= 0xffffffff
    data = b"tcn1" + struct.pack(">QBH", now_s, fam, port) + ip16
    mac = hmac.new(key, data, hashlib.sha256).digest()[:12]
    return ("%08x" % now_s + mac.hex()).encode()


# ---------------------------------------------------------------------------
# 1. The Firezone relay's historic vectors must be reproduced exactly.

failures = 0
C_OUT = "--c" in sys.argv[1:]
CHECK = None
if "--check" in sys.argv[1:]:
    i = sys.argv.index("--check")
    if i + 1 >= len(sys.argv):
        sys.exit("usage: derive.py [--c | --check FILE]")
    CHECK = sys.argv[i + 1]
LOG = sys.stderr if C_OUT else sys.stdout
ntests = nfailed = 0
VECS = []   # (name, hex) in the order emitted


def tap(good, name):
    global ntests, nfailed
    ntests += 1
    nfailed += 0 if good else 1
    print("%s %d - %s" % ("ok" if good else "not ok", ntests, name))


def check(name, got, want):
    global failures
    if CHECK:
        tap(got == want, "Firezone vector reproduced: " + name)
    if got == want:
        if not CHECK:
            print("# ok: %s" % name, file=LOG)
    else:
        failures += 1
        print("# MISMATCH: %s\n#   got  %s\n#   want %s" % (name, got, want),
              file=LOG)


SECRET = "0" * 64
EXPIRY = 4102444800
SALT = "abcdefghij"
USER = "%d:%s" % (EXPIRY, SALT)
PASS = password(EXPIRY, SECRET, SALT)
KEY = lt_key(USER, PASS)
A4, A6 = "203.0.113.1", "2001:db8::1"
CLIENT, CPORT = "198.51.100.7", 40000
PORT = 49152
NIL_NONCE = b"00000000-0000-0000-0000-000000000000"

print("# derive.py: checking the Firezone relay's vectors", file=LOG)
check("Firezone password vector 1",
      password(1892160000, "4c98bf59c99b3e467ecd7cf9d6b3e5279645fca59be6"
               "7bc5bb4af3cf653761ab", "n23JJ2wKKtt30oXi"),
      "00hqldgk5xLeKKOB+xls9mHMVtgqzie9DulfgQwMv68")
check("Firezone password vector 2 (elixir)",
      password(1685984278, "1cab293a-4032-46f4-862a-40e5d174b0d2",
               "uvdgKvS9GXYZ_vmv"),
      "6xUIoZ+QvxKhRasLifwfRkMXl+ETLJUsFkHlXjlHAkg")
check("V1-V5 password", PASS, "izLTF0QnQC5bcltVxbyfK8r8wOW0iLM5g6vZqRBi1yA")

# messages recorded from a client by the Firezone relay's tests (May 2023)
t = bytes.fromhex("0908af7d45e8751f5092d167")
check("Firezone recorded BINDING success",
      Msg(BINDING, SUCCESS, t).xaddr(A_XMAPPED, "91.141.64.64", 26098).hex(),
      "0101000c2112a4420908af7d45e8751f5092d16700200008000144e07a9fe402")
t = bytes.fromhex("998bcae2a73b55941682cf47")
check("Firezone recorded ALLOCATE success",
      Msg(ALLOCATE, SUCCESS, t).xaddr(A_RELAYED, "35.124.91.37", 49152)
      .xaddr(A_XMAPPED, "91.141.70.157", 7112).u32(A_LIFETIME, 600).hex(),
      "010300202112a442998bcae2a73b55941682cf47001600080001e112026eff67002000"
      "0800013ada7a9fe2df000d000400000258")
t = bytes.fromhex("16e1c61ab424700638d1cdc7")
check("Firezone recorded 401 foobar",
      Msg(ALLOCATE, ERROR, t).error(401).attr(A_NONCE, b"foobar")
      .attr(A_REALM, REALM).hex(),
      "0113002c2112a44216e1c61ab424700638d1cdc70009001000000401556e617574686f"
      "72697a656400150006666f6f626172000000140008666972657a6f6e65")
t = bytes.fromhex("998bcae2a73b55941682cf47")
check("Firezone recorded client ALLOCATE with MI (test/test) and FINGERPRINT",
      Msg(ALLOCATE, REQUEST, t).transport().attr(A_USERNAME, b"test")
      .attr(A_REALM, REALM).attr(A_NONCE, b"foobar")
      .mi(lt_key("test", "test")).fingerprint().hex(),
      "000300482112a442998bcae2a73b55941682cf470019000411000000000600047465"
      "737400140008666972657a6f6e6500150006666f6f626172000000080014b279018b"
      "143b1c6ac194a2848d0e37958731a2f38028000497076a00")

# V1-V5 as the Firezone relay (2024-04) answers them
T1, T2, T3, T4, T5 = (tid_seq(b) for b in (0x00, 0x10, 0x20, 0x30, 0x40))
REF_V1_REQ = Msg(ALLOCATE, REQUEST, T1).transport()
check("Firezone 2024-04 V1 request", REF_V1_REQ.hex(),
      "000300082112a442000102030405060708090a0b0019000411000000")
check("Firezone 2024-04 V1 401 (2024-04: ERROR-CODE, NONCE, REALM)",
      Msg(ALLOCATE, ERROR, T1).error(401).attr(A_NONCE, NIL_NONCE)
      .attr(A_REALM, REALM).hex(),
      "011300482112a442000102030405060708090a0b0009001000000401556e61757468"
      "6f72697a65640015002430303030303030302d303030302d303030302d303030302d"
      "30303030303030303030303000140008666972657a6f6e65")


def v2_request(n):
    return Msg(ALLOCATE, REQUEST, T2).transport() \
        .attr(A_USERNAME, USER.encode()).attr(A_REALM, REALM) \
        .attr(A_NONCE, n).mi(KEY)


REF_V2_REQ = v2_request(NIL_NONCE)
check("Firezone 2024-04 V2 request (MESSAGE-INTEGRITY)", REF_V2_REQ.hex(),
      "000300702112a442101112131415161718191a1b001900041100000000060015343130"
      "323434343830303a6162636465666768696a00000000140008666972657a6f6e650015"
      "002430303030303030302d303030302d303030302d303030302d3030303030303030"
      "3030303000080014bdb3598046f3b403e75bdadb8111baec95497fc9")
check("Firezone 2024-04 V2 success",
      Msg(ALLOCATE, SUCCESS, T2).xaddr(A_RELAYED, A4, PORT)
      .xaddr(A_XMAPPED, CLIENT, CPORT).u32(A_LIFETIME, 600).hex(),
      "010300202112a442101112131415161718191a1b001600080001e112ea12d5430020"
      "00080001bd52e721c045000d000400000258")
check("Firezone V2 success, 2025+ signed format with SOFTWARE",
      Msg(ALLOCATE, SUCCESS, T2)
      .attr(A_SOFTWARE, b"firezone-relay; rev=xxxx")
      .xaddr(A_RELAYED, A4, PORT).xaddr(A_XMAPPED, CLIENT, CPORT)
      .u32(A_LIFETIME, 600).mi(KEY).hex(),
      "010300542112a442101112131415161718191a1b80220018666972657a6f6e652d72"
      "656c61793b207265763d78787878001600080001e112ea12d543002000080001bd52"
      "e721c045000d000400000258000800149f6cd2beb6c84ccfba9480cd9ab0b169ece6"
      "c2ca")


def v3_request(n):
    return Msg(CHANNEL_BIND, REQUEST, T3).attr(A_USERNAME, USER.encode()) \
        .channel(0x4000).xaddr(A_PEER, "192.0.2.50", 5000) \
        .attr(A_NONCE, n).mi(KEY)


check("Firezone 2024-04 V3 request", v3_request(NIL_NONCE).hex(),
      "000900702112a442202122232425262728292a2b00060015343130323434343830303a"
      "6162636465666768696a000000000c000440000000001200080001329ae112a67000"
      "15002430303030303030302d303030302d303030302d303030302d30303030303030"
      "303030303000080014b35cd606793de027031c814212b62700707f48a5")
check("Firezone 2024-04 V3 success", Msg(CHANNEL_BIND, SUCCESS, T3).hex(),
      "010900002112a442202122232425262728292a2b")


def v4_request(n):
    return Msg(REFRESH, REQUEST, T4).attr(A_USERNAME, USER.encode()) \
        .attr(A_NONCE, n).u32(A_LIFETIME, 0).mi(KEY)


check("Firezone 2024-04 V4 request", v4_request(NIL_NONCE).hex(),
      "000400642112a442303132333435363738393a3b00060015343130323434343830303a"
      "6162636465666768696a0000000015002430303030303030302d303030302d303030"
      "302d303030302d303030303030303030303030000d00040000000000080014ff59f2"
      "1bbb4e6c9bc115139fc55eafec64146092")
check("Firezone 2024-04 V4 success",
      Msg(REFRESH, SUCCESS, T4).u32(A_LIFETIME, 0).hex(),
      "010400082112a442303132333435363738393a3b000d000400000000")


def v5_request(n):
    return Msg(ALLOCATE, REQUEST, T5).transport() \
        .family(A_ADD_FAMILY, 2).attr(A_USERNAME, USER.encode()) \
        .attr(A_REALM, REALM).attr(A_NONCE, n).mi(KEY)


check("Firezone 2024-04 V5 request", v5_request(NIL_NONCE).hex(),
      "000300782112a442404142434445464748494a4b001900041100000080000004020000"
      "0000060015343130323434343830303a6162636465666768696a0000000014000866"
      "6972657a6f6e650015002430303030303030302d303030302d303030302d30303030"
      "2d30303030303030303030303000080014843686c3a5983fe5fefba53a3b061f2375"
      "4d5e2f")
check("Firezone 2024-04 V5 success",
      Msg(ALLOCATE, SUCCESS, T5).xaddr(A_RELAYED, A4, PORT)
      .xaddr(A_RELAYED, A6, PORT).xaddr(A_XMAPPED, CLIENT, CPORT)
      .u32(A_LIFETIME, 600).hex(),
      "010300382112a442404142434445464748494a4b001600080001e112ea12d5430016"
      "00140002e1120113a9fa404142434445464748494a4a002000080001bd52e721c045"
      "000d000400000258")

if failures:
    print("# %d Firezone vector(s) NOT reproduced; refusing to derive" %
          failures, file=LOG)
    if CHECK:
        print("1..%d" % ntests)
    sys.exit(1)

# ---------------------------------------------------------------------------
# 2. turncell's vectors.

NOW_S = 1000
NKEY = bytes(32)
SOFTWARE = b"turncell/test"
N = nonce(NKEY, CLIENT, CPORT, NOW_S)


def emit(name, m, why):
    h = m if isinstance(m, str) else m.hex()
    if CHECK:
        VECS.append((name, h))
        return
    print()
    if not C_OUT:
        for line in why.strip().split("\n"):
            print("# " + line)
        print("%s=%s" % (name, h))
        return
    # C string literals for t/21-turn-vectors.c
    print("/*")
    for line in why.strip().split("\n"):
        print(" * " + line)
    print(" */")
    print("static const char %s[] =" % name)
    chunks = [h[i:i + 64] for i in range(0, len(h), 64)]
    for i, c in enumerate(chunks):
        print('    "%s"%s' % (c, ";" if i == len(chunks) - 1 else ""))


if not CHECK:
    print(("/*\n * %s\n */" if C_OUT else "\n# %s") %
          "turncell vectors: now_s %d, client %s:%d, nonce key 32 x 00,\n%s"
          "password %s,\n%snonce %s" % (NOW_S, CLIENT, CPORT,
                                        " * " if C_OUT else "# ", PASS,
                                        " * " if C_OUT else "# ", N.decode()))

emit("V1_REQ", REF_V1_REQ, "V1 ALLOCATE without credentials (Firezone bytes)")
emit("V1_401", Msg(ALLOCATE, ERROR, T1).error(401, bare=True)
     .attr(A_REALM, REALM).attr(A_NONCE, N),
     "-> unsigned 401: ERROR-CODE without a reason phrase, REALM, NONCE\n"
     "(our nonce format, REALM before NONCE, no SOFTWARE: 76 bytes for a\n"
     "28-byte request, under the 3x bound of attack case 40)")

emit("V2_REQ", v2_request(N),
     "V2 ALLOCATE, the Firezone relay's request with our nonce (MI recomputed)")
emit("V2_OK", Msg(ALLOCATE, SUCCESS, T2).attr(A_SOFTWARE, SOFTWARE)
     .xaddr(A_RELAYED, A4, PORT).xaddr(A_XMAPPED, CLIENT, CPORT)
     .u32(A_LIFETIME, 600).mi(KEY),
     "-> WORKER_START(alloc 1, 49152, v4); on worker ready the signed\n"
     "success: SOFTWARE, XOR-RELAYED, XOR-MAPPED, LIFETIME 600, MI")

emit("V2_STALE_REQ", REF_V2_REQ,
     "V2 ALLOCATE with the Firezone relay's nil-UUID nonce (Firezone bytes)")
emit("V2_438", Msg(ALLOCATE, ERROR, T2).attr(A_SOFTWARE, SOFTWARE)
     .error(438).attr(A_REALM, REALM).attr(A_NONCE, N).mi(KEY),
     "-> signed 438 (the username is well-formed): SOFTWARE, ERROR-CODE,\n"
     "REALM, NONCE (fresh), MI; stale because our nonces are MACs")

emit("V3_REQ", v3_request(N),
     "V3 CHANNEL-BIND 0x4000 -> 192.0.2.50:5000 with our nonce")
emit("V3_OK", Msg(CHANNEL_BIND, SUCCESS, T3).attr(A_SOFTWARE, SOFTWARE)
     .mi(KEY),
     "-> (192.0.2.0/24 in conf.filter.allow) WORKER_CHAN_ADD(1, 0x4000,\n"
     "192.0.2.50:5000), then the signed empty success: SOFTWARE, MI")
emit("V3_403", Msg(CHANNEL_BIND, ERROR, T3).attr(A_SOFTWARE, SOFTWARE)
     .error(403).mi(KEY),
     "-> (default filter: 192.0.2.0/24 is documentation space) signed 403")

emit("DATA_IN", "40000004deadbeef",
     "client ChannelData -> WORKER_DATA(1, 0x4000, deadbeef)")
emit("DATA_IN_PAYLOAD", "deadbeef", "the payload of DATA_IN")
emit("DATA_OUT", "40000002cafe",
     "worker frame -> SEND to the client, unchanged (no padding)")

emit("V4_REQ", v4_request(N), "V4 REFRESH LIFETIME 0 with our nonce")
emit("V4_OK", Msg(REFRESH, SUCCESS, T4).attr(A_SOFTWARE, SOFTWARE)
     .u32(A_LIFETIME, 0).mi(KEY),
     "-> WORKER_STOP(1, DELETED), then signed success: SOFTWARE,\n"
     "LIFETIME 0, MI")

emit("V5_REQ", v5_request(N),
     "V5 dual-stack ALLOCATE (ADDITIONAL-ADDRESS-FAMILY IPv6), our nonce,\n"
     "same client after V4 deleted its allocation")
emit("V5_OK", Msg(ALLOCATE, SUCCESS, T5).attr(A_SOFTWARE, SOFTWARE)
     .xaddr(A_RELAYED, A4, PORT).xaddr(A_RELAYED, A6, PORT)
     .xaddr(A_XMAPPED, CLIENT, CPORT).u32(A_LIFETIME, 600).mi(KEY),
     "-> WORKER_START(alloc 2, 49152, v4|v6); on ready: SOFTWARE,\n"
     "XOR-RELAYED v4, XOR-RELAYED v6, XOR-MAPPED, LIFETIME 600, MI")

emit("BIND_REQ", "000100002112a4420908af7d45e8751f5092d167",
     "BINDING from 91.141.64.64:26098 (recorded in the Firezone relay's tests)")
emit("BIND_OK", Msg(BINDING, SUCCESS, bytes.fromhex("0908af7d45e8751f5092d167"))
     .xaddr(A_XMAPPED, "91.141.64.64", 26098),
     "-> exactly XOR-MAPPED-ADDRESS (unchanged from the Firezone relay)")


# ---------------------------------------------------------------------------
# 3. --check FILE: the committed copy must hold exactly these vectors.

def committed(path):
    """NAME -> hex of every file-scope `static const char NAME[] = "hex"
    ...;` (a literal at the start of a line)."""
    src = open(path, encoding="utf-8").read()
    lit = re.compile(r'(?m)^static\s+const\s+char\s+(\w+)\s*\[\]\s*=\s*'
                     r'((?:"[0-9a-fA-F]*"\s*)+);')
    return {m.group(1): "".join(re.findall(r'"([0-9a-fA-F]*)"', m.group(2)))
            .lower() for m in lit.finditer(src)}


if CHECK:
    try:
        have = committed(CHECK)
    except OSError as e:
        have = None
        tap(False, "%s readable (%s)" % (CHECK, e.strerror))
    if have is not None:
        for name, h in VECS:
            got = have.get(name)
            tap(got == h, "%s in %s equals the derived bytes" % (name, CHECK))
            if got is None:
                print("#   missing from %s" % CHECK)
            elif got != h:
                print("#   committed %s\n#   derived   %s" % (got, h))
        extra = sorted(set(have) - set(n for n, _ in VECS))
        tap(not extra, "%s holds no vector that derive.py does not derive%s"
            % (CHECK, (": " + ", ".join(extra)) if extra else ""))
    print("1..%d" % ntests)
    sys.exit(0 if nfailed == 0 else 1)
