// oauth_peer.cjs -- the client side of the OAuth tests, on the npm `jose`
// library (JOSE_DIR: where `npm install jose` ran) and node's crypto.
//   pkce                 a PKCE verifier and its S256 challenge (RFC 7636)
//   verify  < {token, secret, aud, iss, nonce, access_token, code}
//                        jwtVerify (HS256, audience, issuer), at_hash/c_hash
//   sign    < {claims, secret}   an HS256 JWT made by jose
'use strict';
const crypto = require('crypto');
const jose = require(require('path').join(process.env.JOSE_DIR, 'node_modules', 'jose'));

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const halfHash = (s) => b64url(crypto.createHash('sha256').update(s, 'ascii').digest().subarray(0, 16));
const stdin = () => JSON.parse(require('fs').readFileSync(0, 'utf8'));

async function main() {
  const cmd = process.argv[2];
  if (cmd === 'pkce') {
    const verifier = b64url(crypto.randomBytes(32));
    const challenge = b64url(crypto.createHash('sha256').update(verifier).digest());
    console.log(verifier + ' ' + challenge);
  } else if (cmd === 'verify') {
    const a = stdin();
    try {
      const { payload, protectedHeader } = await jose.jwtVerify(a.token, new TextEncoder().encode(a.secret),
        { algorithms: ['HS256'], audience: a.aud, issuer: a.iss });
      const out = { ok: true, header: protectedHeader, claims: payload };
      if (a.access_token !== undefined) out.at_hash_ok = payload.at_hash === halfHash(a.access_token);
      if (a.code !== undefined) out.c_hash_ok = payload.c_hash === halfHash(a.code);
      if (a.nonce !== undefined) out.nonce_ok = payload.nonce === a.nonce;
      console.log(JSON.stringify(out));
    } catch (e) {
      console.log(JSON.stringify({ ok: false, error: e.code || String(e) }));
    }
  } else if (cmd === 'sign') {
    const a = stdin();
    console.log(await new jose.SignJWT(a.claims).setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(a.secret)));
  } else {
    console.error('usage: oauth_peer.cjs pkce|verify|sign');
    process.exit(2);
  }
}
main();
