// A Faye peer for the Go interop tests of package bayeux.
//
// Usage: node faye-server.js [--timeout seconds]
// Mounts Faye at /bayeux on 127.0.0.1:<free port> (WebSocket and long-polling) and prints
// {"port":N}. Reports incoming messages as JSON lines. Commands on stdin:
//   {"cmd":"publish","channel":"/x","data":...}   broadcast from the server side
//   {"cmd":"restart"}   replace the adapter (all sessions are lost, as after a restart)
//   {"cmd":"exit"}
'use strict';
const http = require('http');
const readline = require('readline');
const faye = require('faye');

const args = process.argv.slice(2);
const ti = args.indexOf('--timeout');
const timeout = ti >= 0 ? Number(args[ti + 1]) : 2;

const out = obj => process.stdout.write(JSON.stringify(obj) + '\n');

let adapter;
function newAdapter() {
    const a = new faye.NodeAdapter({ mount: '/bayeux', timeout });
    a.addExtension({
        incoming: (message, request, callback) => {
            const ev = { event: 'in', channel: message.channel, clientId: message.clientId };
            if (message.ext) ev.ext = message.ext;
            if (message.connectionType) ev.connectionType = message.connectionType;
            if (request && request.headers) ev.contentType = request.headers['content-type'];
            out(ev);
            callback(message);
        },
    });
    return a;
}

adapter = newAdapter();
// Route through a variable so "restart" can swap the adapter behind the same port.
const server = http.createServer((req, res) => adapter.handle(req, res));
const upgraded = new Set();
server.on('upgrade', (req, socket, head) => {
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    adapter.handleUpgrade(req, socket, head);
});
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
        case 'publish':
            adapter.getClient().publish(cmd.channel, cmd.data).then(
                () => out({ event: 'published', channel: cmd.channel }),
                err => out({ event: 'error', error: String(err && err.message || err) }));
            return;
        case 'restart': {
            const old = adapter;
            adapter = newAdapter();
            // Drop open sockets so clients reconnect to the new adapter.
            server.closeAllConnections && server.closeAllConnections();
            for (const s of upgraded) s.destroy();
            try { old.close(); } catch (e) { /* engine timers */ }
            out({ event: 'restarted' });
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
    for (const s of upgraded) s.destroy();
    server.close();
    server.closeAllConnections && server.closeAllConnections();
    process.exit(0);
}
