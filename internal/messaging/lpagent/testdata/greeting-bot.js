'use strict';

// The greeting bot of node-agent-sdk's greeting-bot example, written
// against the SDK's public API: AWAY (no rings), subscribed to every open
// conversation of the account, it joins each new one as MANAGER and
// greets. It prints what it sees as JSON lines on stdout for the Go test.
// LP_REFRESH_MS, when set, is how often the SDK refreshes its session.

const Agent = require('node-agent-sdk').Agent;

const out = o => console.log(JSON.stringify(o));
const errOf = e => e ? (e.code !== undefined ? e.code : (e.message || String(e))) : null;

const agent = new Agent({
    accountId: process.env.LP_ACCOUNT,
    username: process.env.LP_USER,
    password: process.env.LP_PASS,
    csdsDomain: process.env.LP_CSDS,
    refreshSessionInterval: Number(process.env.LP_REFRESH_MS) || undefined,
});
const openConvs = {};

agent.on('connected', () => {
    out({event: 'connected', agentId: agent.agentId, userId: agent.userId});
    agent.setAgentState({availability: 'AWAY'}); // Do not route me conversations, I'll join by myself.
    agent.subscribeExConversations({
        'convState': ['OPEN'] // subscribes to all open conversation in the account.
    }, (e, resp) => out({event: 'subscribed', error: errOf(e), resp}));
    agent._pingClock = setInterval(agent.getClock, 30000);
});

agent.on('cqm.ExConversationChangeNotification', notificationBody => {
    notificationBody.changes.forEach(change => {
        const details = change.result.conversationDetails;
        out({event: 'change', type: change.type, convId: change.result.convId, state: details.state,
            closeReason: details.closeReason, myRole: details.getMyRole(), participants: details.participants});
        if (change.type === 'UPSERT' && !openConvs[change.result.convId]) {
            openConvs[change.result.convId] = change.result;
            if (!details.participants.filter(p => p.id === agent.agentId)[0]) {
                agent.updateConversationField({
                    'conversationId': change.result.convId,
                    'conversationField': [{
                        'field': 'ParticipantsChange',
                        'type': 'ADD',
                        'role': 'MANAGER'
                    }]
                }, (e, resp) => {
                    out({event: 'joined', convId: change.result.convId, error: errOf(e), resp});
                    agent.publishEvent({
                        dialogId: change.result.convId,
                        event: {
                            type: 'ContentEvent',
                            contentType: 'text/plain',
                            message: 'welcome from bot'
                        }
                    }, (e, resp) => out({event: 'greeted', convId: change.result.convId, error: errOf(e), resp}));
                });
            }
        } else if (change.type === 'DELETE') {
            delete openConvs[change.result.convId];
        }
    });
});

agent.on('error', err => out({event: 'error', message: err.message, code: err.code}));
agent.on('closed', code => {
    out({event: 'closed', code});
    clearInterval(agent._pingClock);
});
process.on('SIGTERM', () => {
    agent.dispose();
    process.exit(0);
});
