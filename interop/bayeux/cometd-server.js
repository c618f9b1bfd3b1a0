// A cometd-nodejs-server peer for the Go interop tests of package bayeux.
//
// Usage: node cometd-server.js [--ack] [--timeout ms] [--max-interval ms]
// Listens on 127.0.0.1:<free port> and prints {"port":N} as its first stdout line.
// Hosts /service/echo (delivers the published data back to the publisher only, during
// the publish) and reports events as JSON lines. Commands on stdin, one JSON per line:
//   {"cmd":"forget","id":"<clientId>"}   remove the session (as an expiry would)
//   {"cmd":"publish","channel":"/x","data":...}   broadcast to subscribers
//   {"cmd":"exit"}
'use strict';
const http = require('http');
const readline = require('readline');
const cometdServer = require('cometd-nodejs-server');

const args = process.argv.slice(2);
const opt = name => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
};
const timeout = Number(opt('--timeout') || 2000);
const maxInterval = Number(opt('--max-interval') || 5000);

const out = obj => process.stdout.write(JSON.stringify(obj) + '\n');

const cometd = cometdServer.createCometDServer({ timeout, maxInterval });
if (args.includes('--ack')) {
    const { AcknowledgedMessagesExtension } = require('cometd-nodejs-server/ack-extension');
    cometd.addExtension(new AcknowledgedMessagesExtension());
}

// Report what each request carried (cookie presence, connect advice, ext).
cometd.addExtension({
    incoming: (server, session, message, callback) => {
        const req = server.context && server.context.request;
        const cookie = req && req.headers && req.headers.cookie || '';
        const ev = {
            event: 'in',
            channel: message.channel,
            id: message.id,
            clientId: message.clientId,
            hasBrowserCookie: /(^|;\s*)BAYEUX_BROWSER=/.test(cookie),
            contentType: req && req.headers ? req.headers['content-type'] : undefined,
        };
        if (message.advice) ev.advice = message.advice;
        if (message.ext) ev.ext = message.ext;
        if (message.connectionType) ev.connectionType = message.connectionType;
        out(ev);
        callback(null, true);
    },
});

cometd.createServerChannel('/service/echo').addListener('message', (session, channel, message, callback) => {
    session.deliver(null, channel.name, message.data);
    callback();
});

const server = http.createServer(cometd.handle);
server.listen(0, '127.0.0.1', () => out({ port: server.address().port }));

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', line => {
    let cmd;
    try {
        cmd = JSON.parse(line);
    } catch (e) {
        out({ event: 'error', error: 'bad command: ' + line });
        return;
    }
    switch (cmd.cmd) {
        case 'forget': {
            const session = cometd.getServerSession(cmd.id);
            if (!session) {
                out({ event: 'forgot', id: cmd.id, found: false });
                return;
            }
            const scheduler = session._scheduler;
            cometd._removeServerSession(session, true);
            // Answer the held connect now so the client finds out on its next connect.
            if (scheduler) scheduler.resume();
            out({ event: 'forgot', id: cmd.id, found: true });
            return;
        }
        case 'publish': {
            const ch = cometd.getServerChannel(cmd.channel) || cometd.createServerChannel(cmd.channel);
            ch.publish(null, cmd.data, () => out({ event: 'published', channel: cmd.channel }));
            return;
        }
        case 'exit':
            shutdown();
            return;
        default:
            out({ event: 'error', error: 'unknown command ' + cmd.cmd });
    }
});
rl.on('close', shutdown);

function shutdown() {
    cometd.close();
    server.close();
    server.closeAllConnections && server.closeAllConnections();
    process.exit(0);
}
