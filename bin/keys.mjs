#!/usr/bin/env node
// `npm run keys`: prints a new OAUTH_SIGNING_KEY (private JWK) and how to install it as a Worker secret.
import { generateIdSecret, generateSigningKey } from './lib/keys.mjs';

if (process.argv.includes('--help')) {
  process.stdout.write(`Usage: npm run -s keys > key.json          a new OAUTH_SIGNING_KEY (private EC P-256 JWK)
       npm run -s keys -- --id-secret       a new ID_SECRET (32 random bytes, base64url)
Install them as Worker secrets:
  npx wrangler secret put OAUTH_SIGNING_KEY < key.json   (then delete key.json)
  npm run -s keys -- --id-secret | npx wrangler secret put ID_SECRET
To rotate the signing key, move the old public key into OAUTH_PREVIOUS_PUBLIC_KEYS first.
Changing ID_SECRET ends every session and grant.
`);
  process.exit(0);
}
process.stdout.write(`${process.argv.includes('--id-secret') ? generateIdSecret() : await generateSigningKey()}\n`);
if (process.stdout.isTTY) process.stderr.write('\nInstall it: npx wrangler secret put OAUTH_SIGNING_KEY (paste the line above). Keep it out of git.\n');
