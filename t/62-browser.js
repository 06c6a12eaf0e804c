/*
 * 62-browser.js: a real browser through turncell (driven by t/62-browser.sh).
 *
 * Debian's Chromium, headless, driven by playwright-core: two
 * RTCPeerConnections in one page, iceTransportPolicy "relay" and turncell
 * as the only ICE server, so every packet between them goes through two
 * turncell allocations. Scenarios:
 *   - Firezone credentials, --indications: the data channel opens, 50
 *     messages arrive in order, getStats() shows a relay/relay selected
 *     pair on turncell's relay addresses, and /metrics counts the relayed
 *     packets;
 *   - TURN REST credentials (--auth rest --realm), --indications: the
 *     same;
 *   - Firezone credentials without --indications: the channel must not
 *     open (browsers send their first packets to a peer as Send
 *     indications, which turncell drops unless --indications is on).
 * Loopback only: the relays listen on 127.0.0.1, the page is about:blank,
 * and Chromium runs with DNS mapped to nowhere and its background
 * networking, component updates and sync off.
 *
 * Every relay is started here and killed by PID at exit; the whole run is
 * bounded by a watchdog.
 */
'use strict';

const child = require('child_process');
const dgram = require('dgram');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'turncell');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const NMSG = 50;
const OPEN_MS = 15000;		/* a working set-up opens in < 2 s */
const FAIL_MS = 10000;		/* how long the failing case is given */
/* the browser keys with the realm the relay's 401 announces */
const REST_REALM = 'turn.example.test';

let tests = 0;
let failed = 0;
const relays = [];
let browser = null;

function ok(cond, desc, diag) {
	tests++;
	if (!cond)
		failed++;
	console.log(`${cond ? 'ok' : 'not ok'} ${tests} - ${desc}`);
	if (!cond && diag !== undefined)
		for (const l of String(diag).split('\n'))
			console.log(`# ${l}`);
	return cond;
}

function killAll() {
	for (const r of relays)
		if (r.proc.exitCode === null && r.proc.signalCode === null)
			try { process.kill(r.proc.pid, 'SIGKILL'); } catch (e) {}
}

const watchdog = setTimeout(() => {
	console.log('# watchdog: 90 s passed');
	killAll();
	process.exit(1);
}, 90000);

function freeUdpPort() {
	return new Promise((res, rej) => {
		const s = dgram.createSocket('udp4');
		s.on('error', rej);
		s.bind(0, '127.0.0.1', () => {
			const p = s.address().port;
			s.close(() => res(p));
		});
	});
}

function freeTcpPort() {
	return new Promise((res, rej) => {
		const s = net.createServer();
		s.on('error', rej);
		s.listen(0, '127.0.0.1', () => {
			const p = s.address().port;
			s.close(() => res(p));
		});
	});
}

function sleep(ms) {
	return new Promise((res) => setTimeout(res, ms));
}

function httpGet(port, p) {
	return new Promise((res) => {
		const req = http.get({ host: '127.0.0.1', port, path: p,
		    timeout: 2000 }, (r) => {
			let body = '';
			r.on('data', (d) => { body += d; });
			r.on('end', () => res({ status: r.statusCode, body }));
		});
		req.on('error', () => res({ status: 0, body: '' }));
		req.on('timeout', () => req.destroy());
	});
}

function metric(text, name) {
	let sum = 0;
	for (const l of text.split('\n'))
		if (l.startsWith(name + ' ') || l.startsWith(name + '{'))
			sum += Number(l.slice(l.lastIndexOf(' ') + 1));
	return sum;
}

/* a relay on loopback: its own secret, listen port, relay range */
async function startRelay(dir, name, extra) {
	const port = await freeUdpPort();
	const health = await freeTcpPort();
	/* 32 relay ports somewhere below the ephemeral range */
	const lo = 20000 + 32 * Math.floor(Math.random() * 300);
	const hi = lo + 31;
	const secret = path.join(dir, `${name}.secret`);
	fs.writeFileSync(secret, require('crypto').randomBytes(32)
	    .toString('hex') + '\n', { mode: 0o600 });
	const log = fs.openSync(path.join(dir, `${name}.log`), 'w');
	const args = ['--public-ip4-addr', '127.0.0.1',
	    '--bind-ip4-addr', '127.0.0.1', '--listen-port', String(port),
	    '--lowest-port', String(lo), '--highest-port', String(hi),
	    '--allow-peer', '127.0.0.0/8', '--secret-file', secret,
	    '--health-check-addr', `127.0.0.1:${health}`, ...extra];
	const proc = child.spawn(BIN, args, { stdio: ['ignore', log, log] });
	const r = { name, proc, port, health, lo, hi, secret,
	    log: path.join(dir, `${name}.log`) };
	relays.push(r);
	for (let i = 0; i < 50; i++) {
		if ((await httpGet(health, '/readyz')).status === 200)
			return r;
		if (proc.exitCode !== null)
			break;
		await sleep(100);
	}
	throw new Error(`relay ${name} did not start:\n` +
	    fs.readFileSync(r.log, 'utf8'));
}

function stopRelay(r) {
	try { process.kill(r.proc.pid, 'SIGKILL'); } catch (e) {}
}

function cred(r, rest) {
	const args = ['cred', '--secret-file', r.secret, '--ttl', '600'];
	if (rest)
		args.push('--auth', 'rest', '--user', 'browser', '--realm',
		    REST_REALM);
	return JSON.parse(child.execFileSync(BIN, args, { encoding: 'utf8' }));
}

/*
 * Runs in the page: two peer connections through the TURN server, a data
 * channel from a to b, NMSG messages. Returns what happened.
 */
async function pageRun(o) {
	const cfg = { iceServers: [{ urls: o.url, username: o.username,
	    credential: o.credential }], iceTransportPolicy: 'relay' };
	const a = new RTCPeerConnection(cfg);
	const b = new RTCPeerConnection(cfg);
	const cands = { a: [], b: [] };
	a.onicecandidate = (e) => { if (e.candidate) {
		cands.a.push(e.candidate.candidate);
		b.addIceCandidate(e.candidate);
	} };
	b.onicecandidate = (e) => { if (e.candidate) {
		cands.b.push(e.candidate.candidate);
		a.addIceCandidate(e.candidate);
	} };
	const timeout = (ms) => new Promise((res) => setTimeout(() =>
	    res('timeout'), ms));
	const dc = a.createDataChannel('turncell', { ordered: true });
	const got = [];
	let gotAll;
	const allGot = new Promise((res) => { gotAll = res; });
	b.ondatachannel = (e) => {
		e.channel.onmessage = (m) => {
			got.push(m.data);
			if (got.length === o.n)
				gotAll('all');
		};
	};
	const opened = new Promise((res) => { dc.onopen = () => res('open'); });
	await a.setLocalDescription(await a.createOffer());
	await b.setRemoteDescription(a.localDescription);
	await b.setLocalDescription(await b.createAnswer());
	await a.setRemoteDescription(b.localDescription);
	const r = { cands, opened: (await Promise.race([opened,
	    timeout(o.openMs)])) === 'open' };
	r.ice = [a.iceConnectionState, b.iceConnectionState];
	if (r.opened) {
		for (let i = 0; i < o.n; i++)
			dc.send(`message ${i}`);
		r.delivered = (await Promise.race([allGot,
		    timeout(5000)])) === 'all';
		r.got = got;
		r.pairs = [];
		for (const pc of [a, b]) {
			const st = await pc.getStats();
			let pairId = null;
			st.forEach((s) => { if (s.type === 'transport' &&
			    s.selectedCandidatePairId)
				pairId = s.selectedCandidatePairId; });
			const p = pairId ? st.get(pairId) : null;
			const l = p ? st.get(p.localCandidateId) : null;
			const rc = p ? st.get(p.remoteCandidateId) : null;
			r.pairs.push(p ? { state: p.state,
			    bytesSent: p.bytesSent,
			    bytesReceived: p.bytesReceived,
			    local: { type: l.candidateType, address: l.address,
			    port: l.port, relayProtocol: l.relayProtocol,
			    url: l.url },
			    remote: { type: rc.candidateType,
			    address: rc.address, port: rc.port } } : null);
		}
	}
	a.close();
	b.close();
	return r;
}

async function scenario(page, name, extra, rest, expectOpen) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), '62-browser.'));
	let r;
	try {
		r = await startRelay(dir, name, extra);
	} catch (e) {
		ok(false, `${name}: relay starts`, e.message);
		return;
	}
	const c = cred(r, rest);
	const before = await httpGet(r.health, '/metrics');
	const res = await page.evaluate(pageRun, { url:
	    `turn:127.0.0.1:${r.port}?transport=udp`, username: c.username,
	    credential: c.password, n: NMSG,
	    openMs: expectOpen ? OPEN_MS : FAIL_MS });
	const after = await httpGet(r.health, '/metrics');
	const log = () => fs.readFileSync(r.log, 'utf8').split('\n')
	    .slice(-15).join('\n');
	const relayCands = (l) => l.filter((x) => / typ relay /.test(x));
	const onRelay = (l) => l.length > 0 && l.every((x) => {
		const f = x.split(' ');
		const port = Number(f[5]);
		return f[4] === '127.0.0.1' && port >= r.lo && port <= r.hi;
	});
	ok(onRelay(relayCands(res.cands.a)) && onRelay(relayCands(res.cands.b)),
	    `${name}: both peers got relay candidates on turncell ` +
	    `(127.0.0.1:${r.lo}-${r.hi})`, JSON.stringify(res.cands));
	if (!expectOpen) {
		ok(!res.opened, `${name}: the data channel does not open ` +
		    `within ${FAIL_MS / 1000} s`, JSON.stringify(res.ice));
		ok(metric(after.body, 'turncell_relayed_packets_total') === 0,
		    `${name}: turncell relayed nothing`, after.body);
		/* why: the browser got its allocations and permissions, bound
		 * no channel, and its Send indications were dropped */
		ok(metric(after.body, 'turncell_responses_total{method=' +
		    '"createpermission",class="success",code="200"}') >= 2 &&
		    !/method="channelbind"/.test(after.body) &&
		    metric(after.body, 'turncell_dropped_datagrams_total') > 0,
		    `${name}: permissions granted, no ChannelBind, the Send ` +
		    'indications dropped', after.body);
		stopRelay(r);
		fs.rmSync(dir, { recursive: true, force: true });
		return;
	}
	if (!ok(res.opened, `${name}: the data channel opens`,
	    JSON.stringify(res.ice) + '\n' + log()))
		return;
	const want = Array.from({ length: NMSG }, (_, i) => `message ${i}`);
	ok(res.delivered && JSON.stringify(res.got) === JSON.stringify(want),
	    `${name}: ${NMSG} messages arrive, in order`,
	    JSON.stringify(res.got));
	/* the selected pair carried the data; its state may still read
	 * "in-progress" when the other side's check nominated it */
	const pairOk = (p) => p && p.state !== 'failed' &&
	    p.bytesSent > 0 && p.bytesReceived > 0 &&
	    p.local.type === 'relay' && p.remote.type === 'relay' &&
	    p.local.address === '127.0.0.1' && p.remote.address ===
	    '127.0.0.1' && p.local.port >= r.lo && p.local.port <= r.hi &&
	    p.remote.port >= r.lo && p.remote.port <= r.hi &&
	    p.local.relayProtocol === 'udp';
	ok(pairOk(res.pairs[0]) && pairOk(res.pairs[1]),
	    `${name}: getStats: selected pairs relay/relay on turncell's ` +
	    'relay ports, data both ways', JSON.stringify(res.pairs));
	ok(res.pairs[0].local.port === res.pairs[1].remote.port &&
	    res.pairs[1].local.port === res.pairs[0].remote.port,
	    `${name}: each side's remote is the other's turncell relay ` +
	    'address', JSON.stringify(res.pairs));
	const c2p = metric(after.body, 'turncell_relayed_packets_total') -
	    metric(before.body, 'turncell_relayed_packets_total');
	ok(c2p >= 2 * NMSG, `${name}: /metrics counts the relayed packets ` +
	    `(${c2p} >= ${2 * NMSG})`, after.body);
	stopRelay(r);
	fs.rmSync(dir, { recursive: true, force: true });
}

async function main() {
	const pw = require(process.env.PLAYWRIGHT_CORE ||
	    path.join(ROOT, 'build', 'node', 'node_modules', 'playwright-core'));
	console.log('1..16');
	browser = await pw.chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		timeout: 30000,
		args: [
			'--no-sandbox',		/* we run as root */
			'--disable-gpu',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-default-apps',
			'--disable-sync',
			'--disable-domain-reliability',
			'--disable-client-side-phishing-detection',
			'--no-first-run',
			'--no-pings',
			/* no DNS at all: every name resolves to nothing */
			'--host-resolver-rules=MAP * ~NOTFOUND',
			/* ICE on loopback, candidates with real addresses */
			'--allow-loopback-in-peer-connection',
			'--disable-features=WebRtcHideLocalIpsWithMdns',
		],
	});
	const page = await browser.newPage();
	await page.goto('about:blank');
	await scenario(page, 'firezone credentials, --indications',
	    ['--indications'], false, true);
	await scenario(page, 'REST credentials (--auth rest --realm), ' +
	    '--indications', ['--indications', '--auth', 'rest', '--realm',
	    REST_REALM], true, true);
	await scenario(page, 'firezone credentials, no --indications', [],
	    false, false);
	await browser.close();
}

main().catch((e) => {
	ok(false, 'browser run', e.stack);
}).finally(() => {
	killAll();
	clearTimeout(watchdog);
	process.exitCode = failed ? 1 : 0;
});
