// doc-server as an OAuth resource server behind a real OpenID provider
// (`oidc-provider` from npm, on loopback), and the official MCP TypeScript SDK
// doing the whole client-credentials flow against it.
//
//   node oauth.mjs DOC_SERVER_BINARY DATABASE_URL
//
// The database must hold doc-server's policies (alice: admin, carol: viewer);
// the provider's clients are named after those subjects. The provider runs in
// this process behind a thin wrapper that counts key-set fetches, can take the
// introspection endpoint down, and swaps in a provider with rotated keys.
import http from 'node:http';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';
import * as jose from 'jose';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';

const [docServer, database] = process.argv.slice(2);
if (!docServer || !database) {
  console.error('usage: node oauth.mjs DOC_SERVER_BINARY DATABASE_URL');
  process.exit(2);
}

let failed = 0;
function check(condition, message) {
  console.log(`${condition ? 'ok' : 'FAIL'}: ${message}`);
  if (!condition) failed += 1;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = http.createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

async function signingKey(kid) {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

const providerPort = await freePort();
const serverPort = await freePort();
const ISSUER = `http://127.0.0.1:${providerPort}`;
const RESOURCE = `http://127.0.0.1:${serverPort}/mcp`;
const OTHER_RESOURCE = 'https://other.example/mcp';
const SCOPES = 'documents:create documents:read documents:update documents:delete';
const REFRESH_SECS = 2;
const secret = () => randomBytes(24).toString('hex');
const SECRETS = {
  alice: secret(), carol: secret(), erin: secret(), mallory: secret(), 'doc-server': secret(),
};
// alice's tokens are JWTs; carol's are opaque, so doc-server introspects them.
const OPAQUE = new Set(['carol']);
// Roles the provider asserts in a `roles` claim; doc-server assigns erin and
// mallory nothing itself. No one granted "auditor" anything.
const ROLES = { erin: ['editor'], mallory: ['auditor'] };

function client(id, grantTypes) {
  return {
    client_id: id,
    client_secret: SECRETS[id],
    grant_types: grantTypes,
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  };
}

function makeProvider(keys) {
  const provider = new Provider(ISSUER, {
    clients: [
      client('alice', ['client_credentials']),
      client('carol', ['client_credentials']),
      client('erin', ['client_credentials']),
      client('mallory', ['client_credentials']),
      // doc-server itself: it only introspects.
      client('doc-server', []),
    ],
    jwks: { keys },
    extraTokenClaims: async (ctx, token) => (ROLES[token.clientId] ? { roles: ROLES[token.clientId] } : undefined),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        allowedPolicy: async (ctx, caller) => caller.clientId === 'doc-server',
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => RESOURCE,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, resource, who) => {
          if (resource !== RESOURCE && resource !== OTHER_RESOURCE) {
            throw new errors.InvalidTarget();
          }
          return {
            scope: SCOPES,
            audience: resource,
            accessTokenTTL: 300,
            accessTokenFormat: OPAQUE.has(who.clientId) ? 'opaque' : 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  provider.on('server_error', (ctx, err) => console.error('provider error:', err));
  return provider;
}

// The wrapper: counts key-set fetches, takes introspection down on demand.
let keyA = await signingKey('key-a');
let provider = makeProvider([keyA]);
let keyFetches = 0;
let introspectionDown = false;
const front = http.createServer((req, res) => {
  if (req.url.startsWith('/jwks')) keyFetches += 1;
  if (introspectionDown && req.url.startsWith('/token/introspection')) {
    req.socket.destroy();
    return;
  }
  provider.callback()(req, res);
});
await new Promise((resolve) => front.listen(providerPort, '127.0.0.1', resolve));

async function token(id, { resource = RESOURCE, scope = SCOPES } = {}) {
  const response = await fetch(`${ISSUER}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${id}:${SECRETS[id]}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`token for ${id}: ${JSON.stringify(body)}`);
  return body.access_token;
}

// An `initialize` with `bearer`: the status, and the challenge if refused.
async function initialize(bearer) {
  const response = await fetch(RESOURCE, {
    method: 'POST',
    headers: {
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'oauth-interop', version: '1' },
      },
    }),
  });
  await response.arrayBuffer();
  return { status: response.status, challenge: response.headers.get('www-authenticate') ?? '' };
}

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

// A token with the provider's claims, signed by `jwk` (the provider's, or not).
async function forged(jwk, claims = {}) {
  const key = await jose.importJWK(jwk, 'RS256');
  return new jose.SignJWT({
    iss: ISSUER,
    sub: 'alice',
    aud: RESOURCE,
    iat: now() - 60,
    exp: now() + 300,
    scope: SCOPES,
    client_id: 'alice',
    ...claims,
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: jwk.kid })
    .sign(key);
}

// doc-server, configured for the provider and nothing else.
const server = spawn(docServer, ['--http', `127.0.0.1:${serverPort}`, '--database-url', database], {
  env: {
    ...process.env,
    DOC_SERVER_OIDC_ISSUER: ISSUER,
    DOC_SERVER_OIDC_INTROSPECTION_CLIENT_ID: 'doc-server',
    DOC_SERVER_OIDC_INTROSPECTION_CLIENT_SECRET: SECRETS['doc-server'],
    DOC_SERVER_OIDC_REFRESH_SECS: String(REFRESH_SECS),
    DOC_SERVER_OIDC_ROLES_CLAIM: 'roles',
  },
  stdio: ['ignore', 'ignore', 'pipe'],
});
let log = '';
server.stderr.on('data', (chunk) => { log += chunk; });
const stop = () => { server.kill(); front.close(); };
process.on('exit', () => server.kill());
for (let i = 0; !log.includes('listening on'); i += 1) {
  if (server.exitCode !== null || i > 300) {
    console.error(`doc-server did not start:\n${log}`);
    process.exit(1);
  }
  await sleep(100);
}

try {
  // Discovery, as a client sees it.
  const bare = await initialize(undefined);
  check(bare.status === 401 && bare.challenge.includes('resource_metadata='),
    `no token: 401 naming the metadata (${bare.challenge})`);
  const metadata = await (await fetch(`http://127.0.0.1:${serverPort}/.well-known/oauth-protected-resource`)).json();
  check(metadata.resource === RESOURCE, `the metadata's resource is the audience: ${metadata.resource}`);
  check(JSON.stringify(metadata.authorization_servers) === JSON.stringify([ISSUER]),
    `the metadata lists the provider: ${metadata.authorization_servers}`);
  check(keyFetches === 1, `the key set was fetched once at start-up, for calls and approvals (${keyFetches})`);

  // A token from the provider is accepted.
  const good = await token('alice');
  check((await initialize(good)).status === 200, 'a JWT access token from the provider is accepted');

  // Refused, each with 401 invalid_token.
  const refusals = [
    ['a token for another resource', await token('alice', { resource: OTHER_RESOURCE })],
    ['an expired token', await forged(keyA, { exp: now() - 120 })],
    ['a token signed by a key not in the key set, under a published kid', await forged(await signingKey('key-a'))],
    ['a token signed by a key not in the key set', await forged(await signingKey('rogue'))],
    ['a token with alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: ISSUER, sub: 'alice', aud: RESOURCE, scope: SCOPES, exp: now() + 300 })}.`],
    ['a token with alg HS256', `${b64({ alg: 'HS256', typ: 'JWT', kid: 'key-a' })}.${b64({ iss: ISSUER, sub: 'alice', aud: RESOURCE, scope: SCOPES, exp: now() + 300 })}.c2ln`],
    ['a token of another issuer', await forged(keyA, { iss: 'https://issuer.example' })],
    ['an opaque token for another resource', await token('carol', { resource: OTHER_RESOURCE })],
    ['an opaque token the provider never issued', randomBytes(32).toString('base64url')],
  ];
  for (const [what, bearer] of refusals) {
    const { status, challenge } = await initialize(bearer);
    check(status === 401 && challenge.includes('error="invalid_token"'), `${what}: ${status} ${challenge.split('error_description=')[1]?.split('",')[0] ?? ''}`);
  }

  // Introspection: an opaque token is accepted; with the endpoint down, a
  // token not seen before is refused (503), and served once it is back.
  const opaque = await token('carol', { scope: 'documents:read' });
  check(!opaque.includes('.'), 'carol holds an opaque token');
  check((await initialize(opaque)).status === 200, 'an opaque token is accepted after introspection');
  const unseen = await token('carol', { scope: 'documents:read' });
  introspectionDown = true;
  const down = await initialize(unseen);
  check(down.status === 503, `introspection endpoint down: refused with ${down.status}`);
  introspectionDown = false;
  check((await initialize(unseen)).status === 200, 'introspection endpoint back: the same token is served');

  // Rotation: the provider now signs with a new key; doc-server, not
  // restarted, fetches the key set again on the new kid.
  await sleep(REFRESH_SECS * 1000 + 200);
  const fetchesBefore = keyFetches;
  const keyB = await signingKey('key-b');
  provider = makeProvider([keyB, keyA]);
  const rotated = await token('alice');
  check(jose.decodeProtectedHeader(rotated).kid === 'key-b', 'the provider signs with its new key');
  check((await initialize(rotated)).status === 200, 'after rotation, a token signed with the new key is accepted without a restart');
  check(keyFetches === fetchesBefore + 1, `the rotation cost one key-set fetch (${keyFetches - fetchesBefore})`);
  check((await initialize(good)).status === 200, 'a token signed with the old key, still published, is accepted');

  // A flood of tokens with made-up kids: at most one fetch per refresh period.
  await sleep(REFRESH_SECS * 1000 + 200);
  const rogue = await signingKey('rogue');
  const floodStart = Date.now();
  const floodBefore = keyFetches;
  let sent = 0;
  let accepted = 0;
  while (Date.now() - floodStart < 5000) {
    const batch = await Promise.all(Array.from({ length: 25 }, async () => {
      const bearer = await forged({ ...rogue, kid: randomBytes(8).toString('hex') });
      return (await initialize(bearer)).status;
    }));
    sent += batch.length;
    accepted += batch.filter((status) => status === 200).length;
  }
  const seconds = (Date.now() - floodStart) / 1000;
  const allowed = Math.floor(seconds / REFRESH_SECS) + 1;
  const fetched = keyFetches - floodBefore;
  check(accepted === 0, `${sent} tokens with random kids: none accepted`);
  check(fetched <= allowed, `${sent} tokens with random kids over ${seconds.toFixed(1)} s: ${fetched} key-set fetches (at most ${allowed})`);

  // The official TypeScript SDK: 401, metadata, token from the provider,
  // then tools listed and called.
  const authProvider = new ClientCredentialsProvider({
    clientId: 'alice',
    clientSecret: SECRETS.alice,
    scope: 'documents:create documents:read',
    expectedIssuer: ISSUER,
  });
  const sdk = new Client({ name: 'oauth-interop', version: '1.0.0' });
  await sdk.connect(new StreamableHTTPClientTransport(new URL(RESOURCE), { authProvider }));
  check(authProvider.tokens()?.access_token !== undefined, 'the SDK obtained a token from the provider by itself');
  const names = (await sdk.listTools()).tools.map((t) => t.name).sort();
  check(JSON.stringify(names) === JSON.stringify(['create_document', 'import_url', 'read_document', 'render_document']),
    `the SDK lists the tools its scopes reach: ${names}`);
  const created = await sdk.callTool({ name: 'create_document', arguments: { title: 'oauth', content: 'from the TypeScript SDK' } });
  const text = created.content[0].text;
  check(!created.isError && text.startsWith('created document id='), `create_document: ${text}`);
  const id = Number(text.split('=').pop());
  const read = await sdk.callTool({ name: 'read_document', arguments: { id } });
  check(!read.isError && read.content[0].text.includes('from the TypeScript SDK'), 'read_document returns the content');
  await sdk.close();

  // Roles managed in the provider: erin is an editor by its claim alone;
  // mallory claims a role nothing was granted to.
  for (const [id, allowed] of [['erin', true], ['mallory', false]]) {
    const roleClient = new Client({ name: 'oauth-interop', version: '1.0.0' });
    await roleClient.connect(new StreamableHTTPClientTransport(new URL(RESOURCE), {
      authProvider: new ClientCredentialsProvider({
        clientId: id, clientSecret: SECRETS[id], scope: 'documents:create', expectedIssuer: ISSUER,
      }),
    }));
    const made = await roleClient.callTool({ name: 'create_document', arguments: { title: id, content: `by ${id}` } });
    const said = made.content[0].text;
    check(allowed ? !made.isError : made.isError && said.includes('role does not permit create'),
      `${id}, claiming ${ROLES[id]}: create_document ${allowed ? 'allowed' : 'refused'} (${said})`);
    await roleClient.close();
  }
} catch (e) {
  check(false, `unexpected: ${e.stack ?? e}`);
} finally {
  stop();
}
if (failed > 0) {
  console.error(`doc-server log:\n${log}`);
  process.exit(1);
}
