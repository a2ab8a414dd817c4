'use strict';

// probe calls every request of the SDK once the socket is open, each with
// a callback, and prints each outcome as a JSON line: {call, code, body}
// (code 200 for a success, the response's code for an error frame, the
// message of an Error such as "Request has timed out"). Notifications and
// errors are printed too. It ends (exit 0) after the last call.

const Agent = require('node-agent-sdk').Agent;

const out = o => console.log(JSON.stringify(o));

const agent = new Agent({
    accountId: process.env.LP_ACCOUNT,
    username: process.env.LP_USER,
    password: process.env.LP_PASS,
    csdsDomain: process.env.LP_CSDS,
});

const call = (name, ...args) => new Promise(resolve => {
    agent[name](...args, (e, body) => {
        let code = 200;
        if (e instanceof Error) {
            code = e.message;
        } else if (e) {
            code = e.code;
        }
        out({call: name, code, body: body === undefined ? null : body});
        resolve({code, body});
    });
});

agent.on('notification', msg => out({notification: msg.type, body: msg.body}));
agent.on('error', err => out({event: 'error', message: err.message, code: err.code}));
agent.on('closed', code => out({event: 'closed', code}));

agent.on('connected', async () => {
    out({event: 'connected', agentId: agent.agentId, userId: agent.userId});
    const other = process.env.OTHER_CONVERSATION || 'no-such-conversation';
    await call('getClock', {});
    await call('setAgentState', {availability: 'AWAY'});
    await call('setAgentState', {availability: 'SLEEPING'});
    const sub = await call('subscribeExConversations', {convState: ['OPEN']});
    await call('subscribeExConversations', {convState: ['NOPE']});
    await call('subscribeRoutingTasks', {});
    await call('updateRoutingTaskSubscription', {});
    await call('subscribeAgentsState', {});
    await call('getUserProfile', 'nobody');
    await call('updateRingState', {ringId: 'no-such-ring', ringState: 'ACCEPTED'});
    await call('subscribeMessagingEvents', {dialogId: other});
    await call('publishEvent', {dialogId: other, event: {type: 'ContentEvent', contentType: 'text/plain', message: 'intrusion'}});
    await call('updateConversationField', {conversationId: other,
        conversationField: [{field: 'ParticipantsChange', type: 'ADD', role: 'MANAGER'}]});
    const started = await call('agentRequestConversation', {consumerId: 'probe-consumer'});
    const conv = started.body && started.body.conversationId;
    await call('subscribeMessagingEvents', {dialogId: conv});
    await call('publishEvent', {dialogId: conv, event: {type: 'ContentEvent', contentType: 'text/plain', message: 'with metadata'}},
        null, [{type: 'ExternalId', id: 'X-1'}]);
    await call('publishEvent', {dialogId: conv, event: {type: 'RichContentEvent', content: {type: 'vertical', elements: [{type: 'text', text: 'rich'}]}}});
    await call('publishEvent', {dialogId: conv, event: {type: 'ChatStateEvent', chatState: 'COMPOSING'}});
    await call('publishEvent', {dialogId: conv, event: {type: 'AcceptStatusEvent', status: 'READ', sequenceList: [0]}});
    await call('publishEvent', {dialogId: conv, event: {type: 'ContentEvent', contentType: 'hosted/file', message: {relativePath: '/x'}}});
    await call('getUserProfile', 'probe-consumer');
    await call('updateConversationField', {conversationId: conv, conversationField: [{field: 'DialogChange', type: 'UPDATE', dialog: {dialogId: conv}}]});
    await call('generateURLForUploadFile', {fileSize: 5020, fileType: 'JPEG'});
    await call('generateURLForDownloadFile', {relativePath: '/v1/AUTH_async-images/x.jpeg'});
    await call('updateConversationField', {conversationId: conv, conversationField: [{field: 'ConversationStateField', conversationState: 'CLOSE'}]});
    await call('unsubscribeExConversations', {subscriptionId: sub.body && sub.body.subscriptionId});
    await call('unsubscribeExConversations', {subscriptionId: 'no-such-subscription'});
    out({event: 'done'});
    agent.dispose();
    process.exit(0);
});
