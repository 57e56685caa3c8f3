// A real OpenID provider (oidc-provider 8.8.1) for Latchkey's OIDC tests. See README.md.
//
//   node provider.mjs [--port N] [--access-ttl S] [--refresh-ttl S] [--device-interval S]
//                     [--test-hooks] [--verbose]
//
// Prints exactly one line on stdout when ready: `LISTENING http://127.0.0.1:<port>`; that URL is
// the issuer. Exits when stdin closes, on SIGTERM and on SIGINT.
import * as http from 'node:http';
import * as querystring from 'node:querystring';
import { parseArgs } from 'node:util';

// --- options ---------------------------------------------------------------------------------
const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'access-ttl': { type: 'string', default: '300' },
    'refresh-ttl': { type: 'string', default: String(14 * 24 * 3600) },
    'device-ttl': { type: 'string', default: '600' },
    'device-interval': { type: 'string' },
    'test-hooks': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
  },
});
const verbose = opts.verbose;
const log = (...args) => { if (verbose) process.stderr.write(`oidc-provider: ${args.join(' ')}\n`); };

// oidc-provider prints notices with console.info (stdout!) and warnings with console.warn: stdout
// carries only the LISTENING line, and stderr only what --verbose asks for.
console.log = console.info = console.debug = (...a) => log(...a);
console.warn = console.error = (...a) => log(...a);

const intOption = (name) => {
  const v = Number.parseInt(opts[name], 10);
  if (!Number.isFinite(v) || v < 0) {
    process.stderr.write(`provider.mjs: --${name} needs a non-negative integer\n`);
    process.exit(2);
  }
  return v;
};
const port = intOption('port');
const accessTtl = intOption('access-ttl');
const refreshTtl = intOption('refresh-ttl');
const deviceTtl = intOption('device-ttl');
const deviceInterval = opts['device-interval'] === undefined ? undefined : intOption('device-interval');

const { default: Provider } = await import('oidc-provider');

// --- storage: a Map without an entry limit that honours expiresIn ------------------------------
const epoch = () => Math.floor(Date.now() / 1000);
const store = new Map(); // key -> { value, expiresAt (ms) | undefined }
const grantable = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest']);

function storeGet(key) {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry.value;
}
function storeSet(key, value, expiresIn) {
  store.set(key, { value, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
}
// Expired entries are dropped when read, and here, once a minute, so a long run stays small.
setInterval(() => {
  const now = Date.now();
  for (const [key, entry] of store) {
    if (entry.expiresAt !== undefined && entry.expiresAt <= now) store.delete(key);
  }
}, 60000).unref();

class MapAdapter {
  constructor(model) { this.model = model; }

  key(id) { return `${this.model}:${id}`; }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    if (this.model === 'Session') storeSet(`sessionUid:${payload.uid}`, id, expiresIn);
    const { grantId, userCode } = payload;
    if (grantable.has(this.model) && grantId) {
      const grantKey = `grant:${grantId}`;
      const keys = storeGet(grantKey);
      if (keys) keys.push(key);
      else storeSet(grantKey, [key]);
    }
    if (userCode) storeSet(`userCode:${userCode}`, id, expiresIn);
    storeSet(key, payload, expiresIn);
  }

  async find(id) { return storeGet(this.key(id)); }

  async findByUid(uid) {
    const id = storeGet(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = storeGet(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = storeGet(this.key(id));
    if (payload) payload.consumed = epoch();
  }

  async destroy(id) { store.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    const grantKey = `grant:${grantId}`;
    for (const key of storeGet(grantKey) || []) store.delete(key);
    store.delete(grantKey);
  }
}

// Every stored payload of these models (for the test hooks).
function* payloadsOf(...models) {
  for (const [key] of store) {
    const model = key.slice(0, key.indexOf(':'));
    if (!models.includes(model)) continue;
    const value = storeGet(key);
    if (value) yield value;
  }
}

// --- accounts: any login, password "correct horse" (checked by the login form below) ----------
const PASSWORD = 'correct horse';
async function findAccount(ctx, sub) {
  if (!sub) return undefined;
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        email: `${sub}@example.com`,
        email_verified: true,
        preferred_username: sub,
        name: sub.charAt(0).toUpperCase() + sub.slice(1),
      };
    },
  };
}

// --- HTML: small pages whose forms the user agent (useragent.mjs) reads -----------------------
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[c]));
const page = (title, body) => `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body><h1>${esc(title)}</h1>
${body}
</body></html>`;

// --- the provider ------------------------------------------------------------------------------
const loopbackNative = {
  application_type: 'native',
  redirect_uris: ['http://127.0.0.1/callback'],
  post_logout_redirect_uris: ['http://127.0.0.1/signed-out'],
  response_types: ['code'],
};
const API_RESOURCE = 'http://127.0.0.1/api';

const configuration = {
  adapter: MapAdapter,
  // No leeway: a token is refused from its exp on (the default, 15 s, lets userinfo accept an
  // expired access token that introspection already calls inactive).
  clockTolerance: 0,
  clients: [
    {
      ...loopbackNative,
      client_id: 'latchkey-native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1/callback', 'com.example.latchkey:/callback'],
      grant_types: ['authorization_code', 'refresh_token',
        'urn:ietf:params:oauth:grant-type:device_code'],
    },
    {
      client_id: 'latchkey-service',
      client_secret: 'service-secret',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: 'api:read',
    },
    {
      client_id: 'latchkey-service-post',
      client_secret: 'service-secret',
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: 'api:read',
    },
    {
      ...loopbackNative,
      client_id: 'latchkey-confidential',
      client_secret: 'confidential-secret',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
    },
    {
      client_id: 'latchkey-introspector',
      client_secret: 'introspector-secret',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [],
      redirect_uris: [],
      response_types: [],
    },
  ],
  findAccount,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  scopes: ['openid', 'offline_access', 'api:read'],
  conformIdTokenClaims: false, // the ID token carries the scopes' claims (identityClaims)
  pkce: { methods: ['S256'], required: () => true },
  rotateRefreshToken: () => true,
  issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token')
    && code.scopes.has('offline_access'),
  ttl: {
    AccessToken: accessTtl,
    ClientCredentials: accessTtl,
    AuthorizationCode: 60,
    DeviceCode: deviceTtl,
    IdToken: 3600,
    RefreshToken: refreshTtl,
    Interaction: 3600,
    Session: 14 * 24 * 3600,
    Grant: 14 * 24 * 3600,
  },
  // Its own login and consent pages (below) instead of devInteractions: they check the password.
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['latchkey-test-cookie-key'] },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Error', `<p id="error">${esc(out.error)}</p>
<p id="error_description">${esc(out.error_description)}</p>`);
  },
  features: {
    devInteractions: { enabled: false },
    deviceFlow: {
      enabled: true,
      userCodeInputSource: async (ctx, form, out, err) => {
        const message = err ? `<p id="error">${esc(err.name || 'error')}: ${esc(err.message)}</p>` : '';
        ctx.body = page('Enter code', `${message}${form}
<button type="submit" form="op.deviceInputForm">Continue</button>`);
      },
      userCodeConfirmSource: async (ctx, form, client, deviceInfo, userCode) => {
        ctx.body = page('Confirm device', `<p>${esc(client.clientId)} shows <code>${esc(userCode)}</code></p>
${form}
<button type="submit" form="op.deviceConfirmForm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" value="yes" name="abort">Abort</button>`);
      },
      successSource: async (ctx) => {
        ctx.body = page('Device signed in', '<p id="device-success">You can return to your device.</p>');
      },
    },
    revocation: { enabled: true },
    introspection: {
      enabled: true,
      // Only latchkey-introspector (and a client asking about its own tokens) may introspect.
      allowedPolicy: async (ctx, client, token) => client.clientId === 'latchkey-introspector'
        || client.clientId === token.clientId,
    },
    clientCredentials: { enabled: true },
    userinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page('Sign out', `${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page('Signed out', '<p id="signed-out">You are signed out.</p>');
      },
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => undefined,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resourceIndicator) => {
        if (resourceIndicator !== API_RESOURCE) {
          throw new (await import('oidc-provider')).errors.InvalidTarget();
        }
        return {
          scope: 'api:read',
          audience: API_RESOURCE,
          accessTokenTTL: accessTtl,
          accessTokenFormat: 'opaque',
        };
      },
    },
  },
};

let issuer;
const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
issuer = `http://127.0.0.1:${server.address().port}`;
const provider = new Provider(issuer, configuration);

// RFC 8252 §7.3 lets a native client's loopback redirect URI take any port; oidc-provider does so
// for redirect_uri but matches post_logout_redirect_uri exactly. Here both take any port, so a
// test can listen for the post-logout redirect on a free port.
const { postLogoutRedirectUriAllowed } = provider.Client.prototype;
provider.Client.prototype.postLogoutRedirectUriAllowed = function anyLoopbackPort(value) {
  if (postLogoutRedirectUriAllowed.call(this, value)) return true;
  let parsed;
  try { parsed = new URL(value); } catch { return false; }
  if (this.applicationType !== 'native' || parsed.protocol !== 'http:'
      || parsed.hostname !== '127.0.0.1' || !parsed.port) return false;
  parsed.port = '';
  return postLogoutRedirectUriAllowed.call(this, parsed.href);
};

if (verbose) {
  for (const event of ['grant.error', 'server_error', 'authorization.error', 'introspection.error',
    'revocation.error', 'userinfo.error', 'device_authorization.error', 'code_verification.error',
    'end_session.error', 'discovery.error']) {
    provider.on(event, (ctx, err) => log(`${event}: ${err?.error || err?.name}: ${err?.error_description || err?.message}${err?.error_detail ? ` (${err.error_detail})` : ''}`));
  }
}

// --- counters and test hooks -------------------------------------------------------------------
let counters;
function resetCounters() {
  counters = {
    token: {},
    discovery: 0,
    authorization: 0,
    deviceAuthorization: 0,
    revocation: 0,
    introspection: 0,
    userinfo: 0,
    endSession: 0,
  };
}
resetCounters();
let slowDownsLeft = 0;

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const sendJson = (ctx, status, body) => {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
};

// Runs before the provider's own middleware (provider.use puts it in front of its router).
provider.use(async (ctx, next) => {
  const { path, method } = ctx;
  if (path === '/.well-known/openid-configuration') counters.discovery += 1;
  else if (path === '/auth') counters.authorization += 1;
  else if (path === '/device/auth') counters.deviceAuthorization += 1;
  else if (path === '/token/revocation') counters.revocation += 1;
  else if (path === '/token/introspection') counters.introspection += 1;
  else if (path === '/me') counters.userinfo += 1;
  else if (path === '/session/end' || path.startsWith('/session/end/')) counters.endSession += 1;

  if (path === '/token' && method === 'POST') {
    // Read the body here to count its grant type (and answer slow_down when asked to); the
    // provider then parses the same text from req.body.
    const text = await readBody(ctx.req);
    ctx.req.body = text;
    const grantType = String(querystring.parse(text).grant_type || '(none)');
    counters.token[grantType] = (counters.token[grantType] || 0) + 1;
    if (grantType === 'urn:ietf:params:oauth:grant-type:device_code' && slowDownsLeft > 0) {
      slowDownsLeft -= 1;
      sendJson(ctx, 400, { error: 'slow_down', error_description: 'you are polling too quickly and should back off at a reasonable rate' });
      return;
    }
  }

  if (path.startsWith('/interaction/')) {
    await interaction(ctx);
    return;
  }

  if (path.startsWith('/test/')) {
    if (!opts['test-hooks']) {
      ctx.status = 404;
      ctx.body = 'Not Found';
      return;
    }
    await testHook(ctx);
    return;
  }

  await next();

  // RFC 8628 §3.2: "interval" is optional, 5 s when absent; oidc-provider 8.8.1 never sends it.
  if (path === '/device/auth' && ctx.status === 200 && deviceInterval !== undefined
      && ctx.body && typeof ctx.body === 'object') {
    ctx.body = { ...ctx.body, interval: deviceInterval };
  }
});

async function testHook(ctx) {
  const route = `${ctx.method} ${ctx.path}`;
  const now = epoch();
  const expire = (...models) => {
    let n = 0;
    for (const p of payloadsOf(...models)) {
      if (models.includes('DeviceCode') && (p.accountId || p.error || p.consumed)) continue;
      p.exp = now - 3600;
      n += 1;
    }
    return n;
  };
  switch (route) {
    case 'GET /test/counters':
      sendJson(ctx, 200, counters);
      return;
    case 'POST /test/reset-counters':
      resetCounters();
      sendJson(ctx, 200, { ok: true });
      return;
    case 'POST /test/expire-device-codes':
      sendJson(ctx, 200, { expired: expire('DeviceCode') });
      return;
    case 'POST /test/expire-access-tokens':
      sendJson(ctx, 200, { expired: expire('AccessToken', 'ClientCredentials') });
      return;
    case 'POST /test/expire-refresh-tokens':
      sendJson(ctx, 200, { expired: expire('RefreshToken') });
      return;
    case 'POST /test/revoke-all': {
      // Every grant ends (as when an administrator signs every user out).
      let n = 0;
      for (const p of payloadsOf('AccessToken', 'RefreshToken', 'ClientCredentials')) {
        p.exp = now - 3600;
        n += 1;
      }
      sendJson(ctx, 200, { revoked: n });
      return;
    }
    case 'POST /test/slow-down': {
      const body = await readBody(ctx.req);
      let count = 1;
      try { count = Number(JSON.parse(body || '{}').count ?? 1); } catch { /* default */ }
      slowDownsLeft = Number.isFinite(count) && count >= 0 ? count : 1;
      sendJson(ctx, 200, { slowDowns: slowDownsLeft });
      return;
    }
    default:
      sendJson(ctx, 404, { error: 'no such test hook', hook: route });
  }
}

// --- login and consent pages -------------------------------------------------------------------
function finish(ctx, returnTo) {
  ctx.status = 303;
  ctx.set('Location', returnTo);
  ctx.body = '';
}

async function interaction(ctx) {
  const match = /^\/interaction\/([^/]+)(\/abort)?$/.exec(ctx.path);
  if (!match) {
    ctx.status = 404;
    return;
  }
  ctx.set('Cache-Control', 'no-store');
  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (err) {
    ctx.status = 400;
    ctx.type = 'html';
    ctx.body = page('Error', `<p id="error">${esc(err.name)}: ${esc(err.message)}</p>`);
    return;
  }
  const { uid, prompt, params, session, grantId } = details;
  const action = `/interaction/${uid}`;

  if (match[2] && ctx.method === 'GET') {
    finish(ctx, await provider.interactionResult(ctx.req, ctx.res, {
      error: 'access_denied', error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false }));
    return;
  }

  const loginPage = (message) => page('Sign-in', `${message ? `<p id="error">${esc(message)}</p>` : ''}
<p>Sign in to ${esc(params.client_id)}</p>
<form id="login" method="post" action="${action}">
<input type="hidden" name="prompt" value="login"/>
<input type="text" name="login" value=""/>
<input type="password" name="password" value=""/>
<button type="submit">Sign-in</button>
</form>
<a id="abort" href="${action}/abort">Cancel</a>`);

  if (ctx.method === 'GET') {
    ctx.type = 'html';
    if (prompt.name === 'login') {
      ctx.body = loginPage();
    } else if (prompt.name === 'consent') {
      const scopes = [...(prompt.details.missingOIDCScope || []),
        ...Object.values(prompt.details.missingResourceScopes || {}).flat()];
      ctx.body = page('Authorize', `<p>${esc(params.client_id)} asks for: <span id="scopes">${esc(scopes.join(' '))}</span></p>
<form id="consent" method="post" action="${action}">
<input type="hidden" name="prompt" value="consent"/>
<button type="submit">Continue</button>
</form>
<a id="abort" href="${action}/abort">Deny</a>`);
    } else {
      ctx.status = 501;
      ctx.body = page('Error', `<p id="error">prompt ${esc(prompt.name)} not implemented</p>`);
    }
    return;
  }

  if (ctx.method !== 'POST') {
    ctx.status = 405;
    return;
  }
  const body = querystring.parse(await readBody(ctx.req));
  if (body.prompt === 'login' && prompt.name === 'login') {
    const login = String(body.login || '').trim();
    if (!login || body.password !== PASSWORD) {
      ctx.status = 200;
      ctx.type = 'html';
      ctx.body = loginPage('Wrong login or password.');
      return;
    }
    finish(ctx, await provider.interactionResult(ctx.req, ctx.res,
      { login: { accountId: login } }, { mergeWithLastSubmission: false }));
    return;
  }
  if (body.prompt === 'consent' && prompt.name === 'consent') {
    const grant = grantId ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const { details: d } = prompt;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    for (const [indicator, scope] of Object.entries(d.missingResourceScopes || {})) {
      grant.addResourceScope(indicator, scope.join(' '));
    }
    finish(ctx, await provider.interactionResult(ctx.req, ctx.res,
      { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true }));
    return;
  }
  ctx.status = 400;
  ctx.type = 'html';
  ctx.body = page('Error', `<p id="error">unexpected ${esc(body.prompt)} submission for prompt ${esc(prompt.name)}</p>`);
}

// --- serve -------------------------------------------------------------------------------------
server.on('request', provider.callback());
process.stdout.write(`LISTENING ${issuer}\n`);

const quit = () => {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
};
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
process.stdin.on('end', quit);
process.stdin.on('close', quit);
process.stdin.resume();
