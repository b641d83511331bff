// pay_peer.cjs -- the gateways' own npm libraries for t/180 (PAY_DIR: where
// `npm install stripe razorpay` ran).  The payload on stdin.
//   stripe-sign <secret> [timestamp]     a Stripe-Signature header (stripe.webhooks.generateTestHeaderString)
//   stripe-verify <secret> <header>      ok / bad (stripe.webhooks.constructEvent)
//   razorpay-verify <secret> <signature> ok / bad (Razorpay.validateWebhookSignature)
'use strict';
const path = require('path');
const dir = process.env.PAY_DIR;
const body = require('fs').readFileSync(0);
const [cmd, secret, arg] = process.argv.slice(2);
if (cmd === 'stripe-sign' || cmd === 'stripe-verify') {
  const stripe = require(path.join(dir, 'node_modules', 'stripe'))('sk_test_unused');
  if (cmd === 'stripe-sign') {
    const opts = { payload: body.toString('utf8'), secret };
    if (arg) opts.timestamp = parseInt(arg, 10);
    console.log(stripe.webhooks.generateTestHeaderString(opts));
  } else {
    try {
      stripe.webhooks.constructEvent(body, arg, secret);
      console.log('ok');
    } catch (e) {
      console.log('bad');
    }
  }
} else if (cmd === 'razorpay-verify') {
  const Razorpay = require(path.join(dir, 'node_modules', 'razorpay'));
  console.log(Razorpay.validateWebhookSignature(body.toString('utf8'), arg, secret) ? 'ok' : 'bad');
} else {
  console.error('usage: pay_peer.cjs stripe-sign|stripe-verify|razorpay-verify <secret> [arg]');
  process.exit(2);
}
