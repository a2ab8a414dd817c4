'use strict';

// The echo bot of node-agent-sdk's agent-bot example (MyCoolAgent and
// main.js), written against the SDK's public API: ONLINE, take every ring,
// subscribe to the conversation's messages, mark each consumer message
// READ and echo it, close the conversation on "#close". It logs in with
// API keys (LP_APP_KEY...) when given, else with LP_USER and LP_PASS, and
// prints what it sees as JSON lines on stdout for the Go test.

const Agent = require('node-agent-sdk').Agent;

const out = o => console.log(JSON.stringify(o));
const errOf = e => e ? (e.code !== undefined ? e.code : (e.message || String(e))) : null;

const conf = {
    accountId: process.env.LP_ACCOUNT,
    username: process.env.LP_USER,
    csdsDomain: process.env.LP_CSDS,
};
if (process.env.LP_APP_KEY) {
    conf.appKey = process.env.LP_APP_KEY;
    conf.secret = process.env.LP_SECRET;
    conf.accessToken = process.env.LP_ACCESS_TOKEN;
    conf.accessTokenSecret = process.env.LP_ACCESS_TOKEN_SECRET;
} else {
    conf.password = process.env.LP_PASS;
}

const agent = new Agent(conf);
const openConvs = {};
let consumerId;

agent.on('connected', msg => {
    out({event: 'connected', agentId: agent.agentId, userId: agent.userId});
    agent.setAgentState({availability: 'ONLINE'}, (e, resp) => out({event: 'state', error: errOf(e), resp}));
    agent.subscribeExConversations({
        'agentIds': [agent.agentId],
        'convState': ['OPEN']
    }, (e, resp) => out({event: 'subscribed', error: errOf(e), resp}));
    agent.subscribeRoutingTasks({}, (e, resp) => out({event: 'routing', error: errOf(e), resp}));
    agent._pingClock = setInterval(agent.getClock, 30000);
});

// Accept any routingTask (== ring).
agent.on('routing.RoutingTaskNotification', body => {
    body.changes.forEach(c => {
        if (c.type === 'UPSERT') {
            c.result.ringsDetails.forEach(r => {
                out({event: 'ring', conversationId: c.result.conversationId, ringState: r.ringState});
                if (r.ringState === 'WAITING') {
                    agent.updateRingState({
                        'ringId': r.ringId,
                        'ringState': 'ACCEPTED'
                    }, (e, resp) => out({event: 'accepted', error: errOf(e), resp}));
                }
            });
        }
    });
});

// Changes in the list of open conversations.
agent.on('cqm.ExConversationChangeNotification', body => {
    body.changes.forEach(change => {
        const details = change.result.conversationDetails;
        out({event: 'change', type: change.type, convId: change.result.convId, state: details.state,
            closeReason: details.closeReason, myRole: details.getMyRole(), participants: details.participants,
            dialogs: details.dialogs, skillId: details.skillId});
        if (change.type === 'UPSERT' && !openConvs[change.result.convId]) {
            // A new conversation for me.
            openConvs[change.result.convId] = {};
            consumerId = details.participants.filter(p => p.role === 'CONSUMER')[0].id;
            agent.getUserProfile(consumerId, (e, profileResp) => {
                out({event: 'profile', error: errOf(e), profile: profileResp});
                agent.publishEvent({
                    dialogId: change.result.convId,
                    event: {
                        type: 'ContentEvent',
                        contentType: 'text/plain',
                        message: `Just joined to conversation with ${JSON.stringify(profileResp)}`
                    }
                });
            });
            agent.subscribeMessagingEvents({dialogId: change.result.convId}, (e, resp) => out({event: 'history', error: errOf(e)}));
        } else if (change.type === 'DELETE') {
            delete openConvs[change.result.convId];
        }
    });
});

// Echo every unread consumer message and mark it as read.
agent.on('ms.MessagingEventNotification', body => {
    const respond = {};
    body.changes.forEach(c => {
        out({event: 'messaging', dialogId: body.dialogId, sequence: c.sequence, type: c.event.type, message: c.event.message,
            status: c.event.status, sequenceList: c.event.sequenceList, originatorId: c.originatorId,
            originatorMetadata: c.originatorMetadata, isMe: c.isMe()});
        if (openConvs[c.dialogId]) {
            if (c.event.type === 'ContentEvent' && c.originatorId !== agent.agentId) {
                respond[`${body.dialogId}-${c.sequence}`] = {
                    dialogId: body.dialogId,
                    sequence: c.sequence,
                    message: c.event.message
                };
            }
            if (c.event.type === 'AcceptStatusEvent' && c.originatorId === agent.agentId) {
                c.event.sequenceList.forEach(seq => {
                    delete respond[`${body.dialogId}-${seq}`];
                });
            }
        }
    });
    Object.keys(respond).forEach(key => {
        const contentEvent = respond[key];
        agent.publishEvent({
            dialogId: contentEvent.dialogId,
            event: {type: 'AcceptStatusEvent', status: 'READ', sequenceList: [contentEvent.sequence]}
        });
        answer(contentEvent);
    });
});

// main.js: close on #close, else echo.
function answer(contentEvent) {
    if (contentEvent.message.startsWith('#close')) {
        agent.updateConversationField({
            conversationId: contentEvent.dialogId,
            conversationField: [{
                field: 'ConversationStateField',
                conversationState: 'CLOSE'
            }]
        }, (e, resp) => out({event: 'closing', error: errOf(e), resp}));
    } else {
        agent.publishEvent({
            dialogId: contentEvent.dialogId,
            event: {
                type: 'ContentEvent',
                contentType: 'text/plain',
                message: `echo : ${contentEvent.message}`
            }
        }, (e, resp) => out({event: 'echoed', error: errOf(e), resp}));
    }
}

agent.on('error', err => out({event: 'error', message: err.message, code: err.code}));
agent.on('closed', code => {
    out({event: 'closed', code});
    clearInterval(agent._pingClock);
});
process.on('SIGTERM', () => {
    agent.dispose();
    process.exit(0);
});
