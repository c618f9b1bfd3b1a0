// The official CometD JavaScript client (cometd 9 + cometd-nodejs-client 2) driving OUR
// Bayeux server, for the Go interop tests of package bayeux.
//
// Usage: node cometd-client.mjs <url> <ws|lp> <scenario> [holdMs]
// Scenarios:
//   service      two clients; each subscribes to and publishes on /service/echo and must
//                get its own reply only; they stay connected holdMs (heartbeats), publish
//                again, then disconnect.
//   reestablish  one client; prints {"event":"ready","clientId":…}; after the server
//                drops the session it must re-handshake (reestablish:true) and publish.
// Prints JSON lines; the last one is {"event":"result",…} (exit 0) or
// {"event":"error",…} (exit 1).
import { adapt } from 'cometd-nodejs-client';
import { CometD } from 'cometd';

adapt();

const [url, mode, scenario, holdArg] = process.argv.slice(2);
const holdMs = Number(holdArg || 2500);
const out = obj => process.stdout.write(JSON.stringify(obj) + '\n');
const fail = msg => {
    out({ event: 'error', error: msg });
    process.exit(1);
};
setTimeout(() => fail('scenario timed out'), 30000).unref();

function newClient(name) {
    const cometd = new CometD(name);
    cometd.unregisterTransport('callback-polling');
    if (mode === 'lp') cometd.websocketEnabled = false;
    cometd.configure({ url, logLevel: 'info', maxNetworkDelay: 5000 });
    const stats = { name, handshakes: 0, reestablished: 0, connects: 0, failedConnects: 0, replies: [] };
    cometd.addListener('/meta/handshake', m => {
        if (m.successful) {
            stats.handshakes++;
            if (m.reestablish) stats.reestablished++;
            stats.clientId = m.clientId;
        }
    });
    cometd.addListener('/meta/connect', m => {
        if (m.successful) stats.connects++;
        else stats.failedConnects++;
    });
    cometd.addListener('/service/echo', m => stats.replies.push(m.data));
    return { cometd, stats };
}

const handshake = c => new Promise((resolve, reject) => {
    // The first callback may report a failed WebSocket attempt before long-polling
    // succeeds: wait for the first success on the listener instead.
    const t = setTimeout(() => reject(new Error('handshake timed out')), 15000);
    const l = c.cometd.addListener('/meta/handshake', m => {
        if (m.successful) {
            clearTimeout(t);
            c.cometd.removeListener(l);
            resolve(m);
        }
    });
    c.cometd.handshake();
});
const publish = (c, data) => new Promise((resolve, reject) =>
    c.cometd.publish('/service/echo', data, r => r.successful ? resolve(r) : reject(new Error('publish failed: ' + r.error))));
const subscribe = (c, ch) => new Promise((resolve, reject) =>
    c.cometd.subscribe(ch, () => {}, r => r.successful ? resolve(r) : reject(new Error('subscribe failed: ' + r.error))));
const disconnect = c => new Promise(resolve => c.cometd.disconnect(r => resolve(r.successful)));
const sleep = ms => new Promise(r => setTimeout(r, ms));
const until = async (pred, what) => {
    for (let i = 0; i < 300; i++) {
        if (pred()) return;
        await sleep(50);
    }
    throw new Error('waiting for ' + what);
};

async function service() {
    const a = newClient('A');
    const b = newClient('B');
    await handshake(a);
    await handshake(b);
    await subscribe(a, '/service/echo');
    await publish(a, { from: 'A', n: 1 });
    await publish(b, { from: 'B', n: 1 });
    await until(() => a.stats.replies.length >= 1 && b.stats.replies.length >= 1, 'replies');
    await sleep(holdMs);
    await publish(a, { from: 'A', n: 2 });
    await until(() => a.stats.replies.length >= 2, 'second reply');
    const transport = a.cometd.getTransport().type;
    const discA = await disconnect(a);
    const discB = await disconnect(b);
    out({ event: 'result', transport, a: a.stats, b: b.stats, disconnected: discA && discB });
}

async function reestablish() {
    const a = newClient('A');
    await handshake(a);
    await until(() => a.stats.connects >= 1, 'first connect');
    out({ event: 'ready', clientId: a.stats.clientId });
    await until(() => a.stats.reestablished >= 1, 're-handshake');
    await publish(a, { after: 'reestablish' });
    await until(() => a.stats.replies.length >= 1, 'reply after re-handshake');
    const transport = a.cometd.getTransport().type;
    const disc = await disconnect(a);
    out({ event: 'result', transport, a: a.stats, disconnected: disc });
}

const scenarios = { service, reestablish };
if (!scenarios[scenario]) fail('unknown scenario ' + scenario);
scenarios[scenario]().then(() => process.exit(0), e => fail(String(e && e.message || e)));
