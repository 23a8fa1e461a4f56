// A real OpenID Provider for the SSO tests: node's certified `oidc-provider`
// on loopback, started by tests/support_network/sso_provider.py and stopped
// after the tests.
//
//   node provider.mjs CONFIG.json
//
// CONFIG: {"issuer": "http://127.0.0.1:PORT", "port": PORT, "kid": "...",
//          "clients": [{client_id, client_secret, redirect_uris, post_logout_redirect_uris}],
//          "accounts_file": "/path/accounts.json", "id_token_ttl": 3600}
//
// The accounts file is read on every login and claims request, so a test
// changes a user's groups (or removes the user) at the IdP by rewriting it:
//   {"tanaka": {"password": "...", "email": "...", "given_name": "...",
//               "family_name": "...", "groups": ["crm-window-staff"],
//               "amr": ["pwd", "mfa"], "acr": "..."}}
// The login page is this file's own small form (the browser test clicks
// through it); consent is granted for the configured (first-party) clients.
// Prints "READY <port>" on stdout once listening.

import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function accounts() {
  return JSON.parse(readFileSync(config.accounts_file, 'utf8'));
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: config.kid || 'test-key', alg: 'RS256', use: 'sig' };

const provider = new Provider(config.issuer, {
  clients: config.clients.map((c) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
    ...c,
  })),
  jwks: { keys: [signingKey] },
  cookies: { keys: ['test-cookie-key-not-secret'] },
  pkce: { required: () => true },
  conformIdTokenClaims: false, // the claims go into the ID token too (as Entra ID does)
  acrValues: config.acr_values || ['urn:test:mfa', 'urn:test:pwd'],
  claims: {
    // acr and amr (what the login asserted: MFA or not) go with the openid scope.
    openid: ['sub', 'acr', 'amr', 'auth_time'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    groups: ['groups'],
  },
  ttl: { IdToken: config.id_token_ttl || 3600, AccessToken: 3600, Session: 3600, Grant: 3600, Interaction: 600 },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      // Own pages: the package's defaults load a web font from the internet.
      async logoutSource(ctx, form) {
        ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign out</title></head>
<body><h1>Sign out of the Test IdP?</h1>${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button></body></html>`;
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed out</title></head><body><h1>Signed out</h1></body></html>';
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const account = accounts()[id];
    if (!account) return undefined; // a user the IdP no longer knows
    return {
      accountId: id,
      async claims() {
        const current = accounts()[id] || {};
        return {
          sub: id,
          email: current.email,
          email_verified: true,
          name: `${current.family_name || ''} ${current.given_name || ''}`.trim(),
          given_name: current.given_name,
          family_name: current.family_name,
          preferred_username: id,
          groups: current.groups || [],
        };
      },
    };
  },
  async loadExistingGrant(ctx) {
    // First-party clients: every requested scope and claim is granted.
    const { oidc } = ctx;
    if (!oidc.session?.accountId) return undefined;
    const grant = new provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
    grant.addOIDCScope(oidc.params.scope || 'openid');
    await grant.save();
    return grant;
  },
});

function escape(text) {
  return String(text).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function loginPage(uid, error) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test IdP sign-in</title></head>
<body><h1>Test IdP</h1>${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="username">Username</label><input id="username" name="username" autocomplete="username">
<label for="password">Password</label><input id="password" name="password" type="password">
<button type="submit">Sign in</button></form></body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(loginPage(details.uid));
    return;
  }
  const form = await readForm(req);
  const username = form.get('username') || '';
  const account = accounts()[username];
  if (!account || account.password !== form.get('password')) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(loginPage(details.uid, 'Wrong username or password.'));
    return;
  }
  const login = { accountId: username, amr: account.amr || ['pwd'] };
  if (account.acr) login.acr = account.acr;
  await provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
}

const handler = provider.callback();
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`interaction failed: ${err.message}`);
    });
    return;
  }
  handler(req, res);
});
server.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`READY ${config.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
