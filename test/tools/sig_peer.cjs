// sig_peer.cjs -- signatures made by the npm `standardwebhooks` library
// (SW_DIR: where `npm install standardwebhooks` ran), for test/t/130.
//   sign <count>   JSON lines {secret, id, timestamp, payload, signature}:
//                  random secrets and payloads (some non-ASCII, some
//                  empty), signed by Webhook.sign
//   verify         reads {secret, id, timestamp, payload, signature} lines
//                  and prints ok/bad per line (Webhook.verify: ours there)
'use strict';
const crypto = require('crypto');
const { Webhook } = require(require('path').join(process.env.SW_DIR, 'node_modules', 'standardwebhooks'));

const cmd = process.argv[2];
if (cmd === 'sign') {
  const n = parseInt(process.argv[3] || '50', 10);
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < n; i++) {
    const secret = 'whsec_' + crypto.randomBytes(24 + (i % 9)).toString('base64');
    const wh = new Webhook(secret);
    const id = 'msg_' + crypto.randomBytes(12).toString('hex');
    const ts = new Date((now - (i % 120)) * 1000);
    const payload = i % 7 === 0 ? '' : JSON.stringify({ n: i, s: 'Café ☃ ' + crypto.randomBytes(i % 40).toString('hex') });
    const signature = wh.sign(id, ts, payload);
    console.log(JSON.stringify({ secret, id, timestamp: String(Math.floor(ts.getTime() / 1000)), payload, signature }));
  }
} else if (cmd === 'verify') {
  const lines = require('fs').readFileSync(0, 'utf8').split('\n').filter(Boolean);
  for (const l of lines) {
    const a = JSON.parse(l);
    try {
      new Webhook(a.secret).verify(a.payload, {
        'webhook-id': a.id, 'webhook-timestamp': a.timestamp, 'webhook-signature': a.signature });
      console.log('ok');
    } catch (e) {
      console.log('bad');
    }
  }
} else {
  console.error('usage: sig_peer.cjs sign <n> | verify');
  process.exit(2);
}
