#!/usr/bin/env node
// `npm run keys`: prints a new OAUTH_SIGNING_KEY (private JWK) and how to install it as a Worker secret.
import { generateSigningKey } from './lib/keys.mjs';

if (process.argv.includes('--help')) {
  process.stdout.write('Usage: npm run -s keys > key.json\nPrints a new private EC P-256 JWK for OAUTH_SIGNING_KEY. Install it with:\n  npx wrangler secret put OAUTH_SIGNING_KEY < key.json\nthen delete key.json. To rotate, move the old public key into OAUTH_PREVIOUS_PUBLIC_KEYS first.\n');
  process.exit(0);
}
process.stdout.write(`${await generateSigningKey()}\n`);
if (process.stdout.isTTY) process.stderr.write('\nInstall it: npx wrangler secret put OAUTH_SIGNING_KEY (paste the line above). Keep it out of git.\n');
