// The official CometD JavaScript client (cometd 9 + cometd-nodejs-client 2) running
// the flow of the Genesys "Chat Version 2 CometD Sample" against sim/gms.
//
// Usage: node gms-sample-client.mjs <node_modules parent dir> <sim base url> <ws|lp>
// Prints JSON lines; the last one is {"event":"result",…} (exit 0) or
// {"event":"error",…} (exit 1).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [modDir, base, mode] = process.argv.slice(2);
const out = obj => process.stdout.write(JSON.stringify(obj) + '\n');
const fail = msg => {
    out({ event: 'error', error: msg });
    process.exit(1);
};
setTimeout(() => fail('scenario timed out'), 40000).unref();

const require = createRequire(join(modDir, 'package.json'));
const { adapt } = await import(pathToFileURL(require.resolve('cometd-nodejs-client')).href);
const { CometD } = await import(pathToFileURL(require.resolve('cometd')).href);
adapt();

const channel = '/service/chatV2/customer-support';
const cometd = new CometD('gms');
cometd.unregisterTransport('callback-polling');
if (mode === 'lp') cometd.websocketEnabled = false;
cometd.configure({ url: base + '/genesys/cometd', logLevel: 'info', maxNetworkDelay: 5000 });

// Session state, as in the sample: secureKey from every notification, the last
// processed index, and the events seen once each.
let secureKey = '', chatId = '', lastIndex = -1, ended = false, handshakes = 0, reestablished = 0;
const events = [];
cometd.addListener('/meta/handshake', m => {
    if (!m.successful) return;
    handshakes++;
    if (m.reestablish) {
        reestablished++;
        // Restore: requestNotifications from the last processed index.
        cometd.publish(channel, { operation: 'requestNotifications', secureKey, transcriptPosition: lastIndex, message: '' });
    }
});
cometd.addListener(channel, m => {
    const r = m.data;
    if (r.secureKey) secureKey = r.secureKey;
    if (r.chatId && r.chatId !== 'deprecated') chatId = r.chatId;
    if (r.statusCode !== 0) return;
    for (const e of r.messages || []) {
        if (e.index > lastIndex) {
            lastIndex = e.index;
            events.push({ index: e.index, type: e.type, from: e.from.type, pid: e.from.participantId, text: e.text || '' });
        }
    }
    if (r.chatEnded) ended = true;
});

const sleep = ms => new Promise(r => setTimeout(r, ms));
const until = async (pred, what) => {
    for (let i = 0; i < 400; i++) {
        if (pred()) return;
        await sleep(25);
    }
    throw new Error('waiting for ' + what + ': ' + JSON.stringify(events));
};
const publish = data => new Promise((resolve, reject) =>
    cometd.publish(channel, data, r => r.successful ? resolve(r) : reject(new Error('publish failed: ' + r.error))));
const control = async (path, body) => {
    const res = await fetch(base + '/_sim/' + path, { method: 'POST', body: JSON.stringify(body || {}) });
    if (!res.ok) throw new Error(path + ': ' + res.status);
    return res.json();
};
const has = (type, text) => events.some(e => e.type === type && (text === undefined || e.text === text));

try {
    await new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('handshake timed out')), 15000);
        cometd.handshake(m => { if (m.successful) { clearTimeout(t); resolve(); } });
    });
    await publish({ operation: 'requestChat', nickname: 'John Doe', subject: 'Test CometD Chat v2', text: '', userData: { interests: 'javascript' } });
    await until(() => secureKey && has('ParticipantJoined'), 'requestChat answer');
    await until(() => has('Message', 'Hello!'), 'agent greeting');
    out({ event: 'chat', chatId, transport: cometd.getTransport().type });

    await publish({ operation: 'sendMessage', message: 'I have a question', messageType: 'text', secureKey });
    await until(() => has('Message', 'You said: I have a question'), 'echo');
    await publish({ operation: 'startTyping', message: 'more', secureKey });
    await publish({ operation: 'stopTyping', message: 'more', secureKey });
    await until(() => has('TypingStopped'), 'typing answers');

    // The server forgets the Bayeux session; the agent writes meanwhile.
    const agent = events.find(e => e.type === 'ParticipantJoined' && e.from === 'Agent');
    await control('chats/' + chatId + '/forgetCometD');
    await until(() => reestablished > 0, 're-handshake');
    await control('chats/' + chatId + '/agents/' + agent.pid + '/send', { text: 'while you were away' });
    await until(() => has('Message', 'while you were away'), 'missed message after requestNotifications');

    await publish({ operation: 'disconnect', secureKey });
    await until(() => ended, 'chatEnded');
    await new Promise(resolve => cometd.disconnect(() => resolve()));
    const indexes = events.map(e => e.index);
    out({ event: 'result', handshakes, reestablished, indexes, texts: events.filter(e => e.type === 'Message').map(e => e.text) });
    process.exit(0);
} catch (e) {
    fail(String(e && e.message || e));
}
