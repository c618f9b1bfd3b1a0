'use strict';
// Runs Genesys's own guest chat SDK (purecloud-guest-chat-client, pinned in
// package.json) and the `ws` WebSocket client against sim/purecloud: a full
// chat over REST + the event stream, all 11 operations, checked field by
// field. Exits 0 when every check passes, 1 on the first mismatch, 2 on a
// timeout.
//
// Usage: SIM_URL=http://127.0.0.1:PORT node interop.js
// The simulator must run with the agent answering at once, echo on and
// AgentGreeting "Hello from the simulator" (see sim/purecloud/interop_test.go).
//
// Pointing the SDK at the simulator: ApiClient.setEnvironment() always builds
// "https://api.<env>", so the script sets `client.config.basePath` (the
// field every request URL is built from) to the simulator's http://
// loopback URL after setEnvironment. The eventStreamUri from the create
// response is used as-is, as the SDK README shows. One SDK defect needs a
// workaround (client.defaultHeaders reset, see below).

const platformClient = require('purecloud-guest-chat-client');
const WebSocket = require('ws');

const SIM_URL = process.env.SIM_URL;
if (!SIM_URL) {
  console.error('interop: SIM_URL is not set');
  process.exit(1);
}
const GREETING = 'Hello from the simulator';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let checks = 0;
let step = 'start';
function check(cond, what, got) {
  checks++;
  if (!cond) {
    console.error(`interop: FAIL ${what}` + (got === undefined ? '' : `: got ${JSON.stringify(got)}`));
    process.exit(1);
  }
}
const sortedKeys = (o) => Object.keys(o).sort().join(',');

const timer = setTimeout(() => {
  console.error('interop: FAIL timeout after 60 s');
  process.exit(2);
}, 60000);

// Event-stream bookkeeping: every parsed frame, plus waiters.
const frames = [];
let waiters = [];
function onFrame(f) {
  frames.push(f);
  waiters = waiters.filter((w) => {
    const i = frames.findIndex((x, idx) => idx >= w.from && w.pred(x));
    if (i >= 0) {
      w.resolve(frames[i]);
      return false;
    }
    return true;
  });
}
function waitFrame(what, pred, from = 0) {
  const i = frames.findIndex((x, idx) => idx >= from && pred(x));
  if (i >= 0) return Promise.resolve(frames[i]);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timeout waiting for ${what}`)), 15000);
    waiters.push({ pred, from, resolve: (f) => { clearTimeout(t); resolve(f); } });
  });
}
const isMsg = (f) => f.metadata && f.metadata.type === 'message';
const isMember = (f) => f.metadata && f.metadata.type === 'member-change';
const isTyping = (f) => f.metadata && f.metadata.type === 'typing-indicator';

async function expectError(promise, status, code, what) {
  try {
    await promise;
  } catch (err) {
    check(err.status === status, `${what}: status`, err.status);
    check(err.body && err.body.code === code, `${what}: code`, err.body);
    check(err.body.status === status && typeof err.body.message === 'string' && err.body.message.length > 0, `${what}: ErrorBody`, err.body);
    check(Array.isArray(err.body.details) && Array.isArray(err.body.errors), `${what}: details/errors arrays`, err.body);
    check(err.headers['inin-correlation-id'] === err.body.contextId, `${what}: contextId = inin-correlation-id`, err.headers);
    return err;
  }
  check(false, `${what}: expected HTTP ${status}`);
}

async function main() {
  const client = platformClient.ApiClient.instance;
  client.config.live_reload_config = false;
  client.setEnvironment(SIM_URL);
  check(client.config.basePath.startsWith('https://api.'), 'setEnvironment builds https://api.<env>', client.config.basePath);
  client.config.basePath = SIM_URL.replace(/\/+$/, '');
  client.setReturnExtendedResponses(true);
  const api = new platformClient.WebChatApi();

  // #1 create (anonymous), body as in the SDK README (with avatarImageUrl).
  step = '#1 create (anonymous), body as in the SDK README (with avatarImageUrl).';
  const created = await api.postWebchatGuestConversations({
    organizationId: 'org-interop',
    deploymentId: 'dep-interop',
    routingTarget: { targetType: 'QUEUE', targetAddress: 'Chat Queue', priority: 2 },
    memberInfo: {
      displayName: 'JavaScript Guest',
      avatarImageUrl: 'http://yoursite.com/path/to/guest/image.png',
      customFields: { firstName: 'John', lastName: 'Doe' },
    },
  });
  check(created.status === 200, 'create status', created.status);
  check(UUID.test(created.headers['inin-correlation-id']), 'create inin-correlation-id', created.headers);
  check(/^application\/json/.test(created.headers['content-type']), 'create content-type', created.headers);
  const chat = created.body;
  check(sortedKeys(chat) === 'eventStreamUri,id,jwt,member', 'create response keys', chat);
  check(UUID.test(chat.id) && UUID.test(chat.member.id) && sortedKeys(chat.member) === 'id', 'create ids', chat);
  check(chat.jwt.split('.').length === 3, 'jwt is a compact JWS');
  const claims = JSON.parse(Buffer.from(chat.jwt.split('.')[1], 'base64url').toString());
  check(claims.iss === 'urn:purecloud:webchat' && claims.org === 'org-interop', 'jwt iss/org', claims);
  check(claims.data.conv === chat.id && claims.data.sub === chat.member.id && claims.data.did === 'dep-interop', 'jwt data', claims);
  check(claims.exp > claims.iat, 'jwt exp > iat', claims);
  check(chat.eventStreamUri === SIM_URL.replace(/^http/, 'ws') + '/v1/token/' + chat.jwt, 'eventStreamUri form', chat.eventStreamUri);
  const conv = chat.id;
  const me = chat.member.id;

  // Without the JWT, authenticated calls are refused.
  step = 'Without the JWT, authenticated calls are refused.';
  await expectError(api.getWebchatGuestConversationMember(conv, me), 401, 'bad.credentials', 'no JWT');
  // SDK 13.2.0 defect (axios build): a call made without a JWT uses
  // ApiClient.defaultHeaders itself as its header object, and the logger then
  // writes Authorization: "[REDACTED]" into it, so every later call would send
  // that instead of the Bearer token. Reset the shared object once, after the
  // unauthenticated calls (create, and the no-JWT check above).
  check(client.defaultHeaders.Authorization === '[REDACTED]', 'SDK defect still present (else drop this workaround)', client.defaultHeaders);
  client.defaultHeaders = {};
  client.setJwt(chat.jwt);

  // Before the socket attaches: guest DISCONNECTED, nobody routed.
  step = 'Before the socket attaches: guest DISCONNECTED, nobody routed.';
  let r = await api.getWebchatGuestConversationMembers(conv, { pageSize: 25, pageNumber: 1 });
  check(r.body.total === 1 && r.body.entities[0].state === 'DISCONNECTED', 'no routing before attach', r.body);

  // Event stream.
  step = 'Event stream.';
  const ws = new WebSocket(chat.eventStreamUri);
  ws.on('message', (data) => onFrame(JSON.parse(data.toString())));
  const closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  r = await api.getWebchatGuestConversationMember(conv, me);
  check(r.body.state === 'CONNECTED' && r.body.role === 'CUSTOMER', 'guest CONNECTED right after open', r.body);
  check(r.body.displayName === 'JavaScript Guest' && r.body.avatarImageUrl === 'http://yoursite.com/path/to/guest/image.png', 'guest member info', r.body);
  check(r.body.customFields.firstName === 'John' && TIME.test(r.body.joinDate) && r.body.leaveDate === undefined, 'guest fields', r.body);

  const meConnected = await waitFrame('own member-change CONNECTED', (f) => isMember(f) && f.eventBody.member.id === me && f.eventBody.member.state === 'CONNECTED');
  check(meConnected.topicName === `v2.conversations.chats.${conv}.members` && meConnected.version === '2', 'member-change topic/version', meConnected);
  check(sortedKeys(meConnected.metadata) === 'CorrelationId,type' && UUID.test(meConnected.metadata.CorrelationId), 'metadata keys', meConnected.metadata);
  check(sortedKeys(meConnected.eventBody) === 'conversation,id,member,timestamp' && TIME.test(meConnected.eventBody.timestamp), 'member-change body', meConnected.eventBody);
  await waitFrame('own member-join', (f) => isMsg(f) && f.eventBody.bodyType === 'member-join' && f.eventBody.sender.id === me);

  const alerting = await waitFrame('agent ALERTING', (f) => isMember(f) && f.eventBody.member.state === 'ALERTING');
  const agent = alerting.eventBody.member.id;
  await waitFrame('agent CONNECTED', (f) => isMember(f) && f.eventBody.member.id === agent && f.eventBody.member.state === 'CONNECTED');
  const join = await waitFrame('agent member-join', (f) => isMsg(f) && f.eventBody.bodyType === 'member-join' && f.eventBody.sender.id === agent);
  check(join.topicName === `v2.conversations.chats.${conv}.messages` && join.eventBody.body === '', 'agent member-join', join);
  const greet = await waitFrame('agent greeting', (f) => isMsg(f) && f.eventBody.sender.id === agent && f.eventBody.body === GREETING);
  check(sortedKeys(greet.eventBody) === 'body,bodyType,conversation,id,sender,timestamp' && greet.eventBody.bodyType === 'standard', 'message event body', greet.eventBody);

  // #3 tells agents from the guest (member-change carries no role).
  step = '#3 tells agents from the guest (member-change carries no role).';
  r = await api.getWebchatGuestConversationMember(conv, agent);
  check(r.body.role === 'AGENT' && r.body.state === 'CONNECTED' && r.body.id === agent, 'agent via #3', r.body);

  // #5 send; own echo on the stream; the echo bot answers.
  step = '#5 send; own echo on the stream; the echo bot answers.';
  let mark = frames.length;
  r = await api.postWebchatGuestConversationMemberMessages(conv, me, { body: 'Hello from the SDK' });
  const sent = r.body;
  check(r.status === 200 && UUID.test(sent.id) && sent.body === 'Hello from the SDK' && sent.bodyType === 'standard', 'send response', sent);
  check(sent.sender.id === me && sent.conversation.id === conv && sent.conversation.selfUri === `/api/v2/conversations/${conv}`, 'send response refs', sent);
  check(sent.selfUri === `/api/v2/webchat/guest/conversations/${conv}/messages/${sent.id}` && TIME.test(sent.timestamp), 'send selfUri/timestamp', sent);
  const echo = await waitFrame('own message echo', (f) => isMsg(f) && f.eventBody.id === sent.id, mark);
  check(echo.eventBody.sender.id === me && echo.eventBody.body === sent.body && echo.eventBody.timestamp === sent.timestamp, 'echo matches', echo.eventBody);
  await waitFrame('echo bot reply', (f) => isMsg(f) && f.eventBody.sender.id === agent && f.eventBody.body === 'Hello from the SDK', mark);

  // #6 typing (no body); echoed as typing-indicator with the same id.
  step = '#6 typing (no body); echoed as typing-indicator with the same id.';
  mark = frames.length;
  r = await api.postWebchatGuestConversationMemberTyping(conv, me);
  check(r.status === 200 && sortedKeys(r.body) === 'conversation,id,sender,timestamp' && r.body.sender.id === me, 'typing response', r.body);
  const ty = await waitFrame('typing echo', (f) => isTyping(f) && f.eventBody.id === r.body.id, mark);
  check(ty.topicName === `v2.conversations.chats.${conv}.messages` && ty.eventBody.sender.id === me, 'typing event', ty);

  // More messages, for paging.
  step = 'More messages, for paging.';
  for (let i = 1; i <= 5; i++) {
    await api.postWebchatGuestConversationMemberMessages(conv, me, { body: `paging ${i}`, bodyType: 'standard' });
  }
  await api.postWebchatGuestConversationMemberMessages(conv, me, { body: 'a notice', bodyType: 'notice' });
  await waitFrame('last echo', (f) => isMsg(f) && f.eventBody.body === 'a notice' && f.eventBody.sender.id === me);

  // #2 members, paged by number.
  step = '#2 members, paged by number.';
  r = await api.getWebchatGuestConversationMembers(conv, { pageSize: 1, pageNumber: 2 });
  const mp = r.body;
  check(mp.pageSize === 1 && mp.pageNumber === 2 && mp.total >= 2 && mp.pageCount === mp.total && mp.entities.length === 1, 'members page 2', mp);
  check(typeof mp.firstUri === 'string' && typeof mp.lastUri === 'string' && typeof mp.previousUri === 'string' && typeof mp.selfUri === 'string', 'members page uris', mp);
  r = await api.getWebchatGuestConversationMembers(conv, { pageSize: 25, pageNumber: 1, excludeDisconnectedMembers: true });
  check(r.body.entities.every((m) => m.state !== 'DISCONNECTED'), 'excludeDisconnectedMembers', r.body);
  check(r.body.entities.some((m) => m.role === 'AGENT') && r.body.entities.some((m) => m.role === 'CUSTOMER'), 'members roles', r.body);

  // #7 messages: page backwards with before (as the Widgets history does) and forwards with after.
  step = '#7 messages: page backwards with before (as the Widgets history does) and forwards with after.';
  const backwards = [];
  let opts = { maxResults: 3, sortOrder: 'descending' };
  for (let page = 0; page < 50; page++) {
    r = await api.getWebchatGuestConversationMessages(conv, opts);
    check(r.body.pageSize === 3 && Array.isArray(r.body.entities) && r.body.entities.length <= 3, 'messages page', r.body);
    backwards.push(...r.body.entities);
    if (r.body.entities.length < 3) break;
    opts = { maxResults: 3, sortOrder: 'descending', before: r.body.entities[r.body.entities.length - 1].id };
  }
  const forwards = [];
  opts = { maxResults: 4, sortOrder: 'ascending' };
  for (let page = 0; page < 50; page++) {
    r = await api.getWebchatGuestConversationMessages(conv, opts);
    forwards.push(...r.body.entities);
    if (!r.body.next) break;
    const next = new URL(r.body.next, SIM_URL);
    check(next.pathname === `/api/v2/webchat/guest/conversations/${conv}/messages`, 'next is a relative messages URI', r.body.next);
    opts = { maxResults: 4, sortOrder: 'ascending', after: next.searchParams.get('after') };
  }
  const fwdIds = forwards.map((m) => m.id);
  check(JSON.stringify(backwards.map((m) => m.id).reverse()) === JSON.stringify(fwdIds), 'before/after paging agree', { backwards: backwards.length, forwards: forwards.length });
  check(new Set(fwdIds).size === fwdIds.length, 'no duplicate across pages');
  for (let i = 1; i < forwards.length; i++) {
    check(forwards[i].timestamp > forwards[i - 1].timestamp, 'transcript timestamps strictly increasing', [forwards[i - 1].timestamp, forwards[i].timestamp]);
  }
  const socketMsgIds = frames.filter(isMsg).map((f) => f.eventBody.id);
  check(JSON.stringify(socketMsgIds) === JSON.stringify(fwdIds), 'socket and #7 carry the same messages in the same order', { socket: socketMsgIds.length, rest: fwdIds.length });
  r = await api.getWebchatGuestConversationMessages(conv, { after: sent.id, maxResults: 2 });
  check(r.body.entities.length === 2 && r.body.entities[0].body === 'Hello from the SDK', 'after cursor', r.body.entities.map((m) => m.body));
  await expectError(api.getWebchatGuestConversationMessages(conv, { maxResults: 101 }), 400, 'invalid.value', 'maxResults 101');

  // #8 one message.
  step = '#8 one message.';
  r = await api.getWebchatGuestConversationMessage(conv, sent.id);
  check(JSON.stringify(r.body) === JSON.stringify(sent), '#8 equals the #5 response', r.body);
  await expectError(api.getWebchatGuestConversationMessage(conv, '00000000-0000-4000-8000-000000000000'), 404, 'not.found', 'unknown message');

  // #9-#11 media requests (offered through the simulator's control API).
  step = "#9-#11 media requests (offered through the simulator's control API).";
  r = await api.getWebchatGuestConversationMediarequests(conv);
  check(Array.isArray(r.body.entities) && r.body.entities.length === 0, 'no media requests', r.body);
  const offer = await fetch(`${SIM_URL}/_sim/conversations/${conv}/mediarequests`, {
    method: 'POST', body: JSON.stringify({ types: ['COBROWSE'] }),
  }).then((x) => x.json());
  r = await api.getWebchatGuestConversationMediarequests(conv);
  check(r.body.entities.length === 1 && r.body.entities[0].id === offer.id && r.body.entities[0].state === 'PENDING', 'media request listed', r.body);
  r = await api.getWebchatGuestConversationMediarequest(conv, offer.id);
  check(JSON.stringify(r.body.types) === '["COBROWSE"]', '#10', r.body);
  r = await api.patchWebchatGuestConversationMediarequest(conv, offer.id, { types: ['COBROWSE'], state: 'ACCEPTED' });
  check(r.body.state === 'ACCEPTED', '#11 accept', r.body);
  await expectError(api.patchWebchatGuestConversationMediarequest(conv, offer.id, { types: ['COBROWSE'], state: 'DECLINED' }), 409, 'conflict', '#11 twice');

  // Errors: too long a body, another member's id.
  step = "Errors: too long a body, another member's id.";
  await expectError(api.postWebchatGuestConversationMemberMessages(conv, me, { body: 'x'.repeat(4001) }), 400, 'invalid.value', '4,001 characters');
  await expectError(api.postWebchatGuestConversationMemberMessages(conv, agent, { body: 'x' }), 403, 'not.authorized', 'send as agent');

  // #4 leave: 204, then own member-leave and DISCONNECTED, then close 1001.
  step = '#4 leave: 204, then own member-leave and DISCONNECTED, then close 1001.';
  mark = frames.length;
  r = await api.deleteWebchatGuestConversationMember(conv, me);
  check(r.status === 204, 'delete status', r.status);
  await waitFrame('own member-leave', (f) => isMsg(f) && f.eventBody.bodyType === 'member-leave' && f.eventBody.sender.id === me, mark);
  await waitFrame('own DISCONNECTED', (f) => isMember(f) && f.eventBody.member.id === me && f.eventBody.member.state === 'DISCONNECTED', mark);
  const close = await closed;
  check(close.code === 1001 && close.reason === 'The conversation is ended', 'close 1001', close);
  await expectError(api.postWebchatGuestConversationMemberMessages(conv, me, { body: 'too late' }), 400, 'chat.error.conversation.state', 'send after end');
  r = await api.getWebchatGuestConversationMember(conv, me);
  check(r.body.state === 'DISCONNECTED' && TIME.test(r.body.leaveDate), 'guest left', r.body);

  // Heartbeats, if the simulator was started with a short interval.
  step = 'Heartbeats, if the simulator was started with a short interval.';
  if (process.env.EXPECT_HEARTBEAT === '1') {
    check(frames.some((f) => f.topicName === 'channel.metadata' && f.eventBody.message === 'WebSocket Heartbeat' && !f.metadata), 'heartbeat seen');
  }
  clearTimeout(timer);
  console.log(`interop: OK, ${checks} checks against ${frames.length} frames (purecloud-guest-chat-client ${require('purecloud-guest-chat-client/package.json').version})`);
}

main().catch((err) => {
  const detail = err && err.body ? JSON.stringify({ status: err.status, body: err.body }) : (err && err.stack) || String(err);
  console.error(`interop: FAIL during "${step}": ${detail}`);
  process.exit(1);
});
