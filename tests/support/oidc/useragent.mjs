// A headless stand-in for the user's browser against provider.mjs (Node built-ins only).
//
//   node useragent.mjs <authorization-url> [--login alice] [--password "correct horse"] [--deny]
//   node useragent.mjs --device <verification_uri[_complete]> [--user-code CODE] [--login ..]
//                      [--password ..] [--deny]
//
// Browser mode follows the provider's redirects, signs in, consents (or, with --deny, cancels the
// sign-in so the application gets error=access_denied) and requests the application's redirect
// URI exactly once. stdout: `REDIRECT <url>`, then `STATUS <http status>` for an http(s) redirect
// URI (a private-use scheme such as com.example.latchkey:/callback is only printed, for the test
// to hand to AuthClient::handleRedirect()).
// An end-session URL (RP-initiated logout) is confirmed ("yes, sign me out"); stdout then has the
// REDIRECT/STATUS lines of the post-logout redirect URI, or `SIGNED OUT` without one.
// Device mode enters the user code, confirms it, signs in and consents; stdout: `DEVICE APPROVED`,
// or with --deny (it aborts on the confirmation page) `DEVICE DENIED`.
//
// Exit codes: 0 done; 1 the provider answered something unexpected (its error on stderr);
// 2 bad arguments; 3 the login was rejected (wrong password); 4 the redirect URI did not answer.
import { parseArgs } from 'node:util';

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      device: { type: 'string' },
      'user-code': { type: 'string' },
      login: { type: 'string', default: 'alice' },
      password: { type: 'string', default: 'correct horse' },
      deny: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '20' },
    },
  });
} catch (err) {
  process.stderr.write(`useragent: ${err.message}\n`);
  process.exit(2);
}
const { values: opts, positionals } = parsed;
const startUrl = opts.device ?? positionals[0];
if (!startUrl || (opts.device && positionals.length) || positionals.length > 1) {
  process.stderr.write('usage: useragent.mjs <authorization-url> [--login L] [--password P] [--deny]\n'
    + '       useragent.mjs --device <verification-uri> [--user-code C] [--login L] [--password P] [--deny]\n');
  process.exit(2);
}
const timeoutMs = Number(opts.timeout) * 1000;

class Failure extends Error {
  constructor(message, code = 1) { super(message); this.code = code; }
}
const trace = (msg) => { if (opts.verbose) process.stderr.write(`useragent: ${msg}\n`); };

// --- cookies (path-scoped, session cookies and expiry; one host) -------------------------------
const jar = new Map(); // name -> { value, path, expires }
function storeCookies(res) {
  const lines = typeof res.headers.getSetCookie === 'function' ? res.headers.getSetCookie()
    : (res.headers.get('set-cookie') || '').split(/,(?=\s*[^;,=\s]+=)/).filter(Boolean);
  for (const line of lines) {
    const [pair, ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const cookie = { value, path: '/', expires: undefined };
    for (const attr of attrs) {
      const [k, v = ''] = attr.split('=');
      const key = k.trim().toLowerCase();
      if (key === 'path') cookie.path = v.trim() || '/';
      else if (key === 'expires') cookie.expires = Date.parse(v.trim());
      else if (key === 'max-age') cookie.expires = Date.now() + Number(v.trim()) * 1000;
    }
    if (cookie.expires !== undefined && cookie.expires <= Date.now()) jar.delete(`${name}|${cookie.path}`);
    else jar.set(`${name}|${cookie.path}`, { name, ...cookie });
  }
}
function cookieHeader(url) {
  const path = url.pathname;
  const now = Date.now();
  return [...jar.values()]
    .filter((c) => (c.expires === undefined || c.expires > now)
      && (path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)))
    .sort((a, b) => b.path.length - a.path.length)
    .map((c) => `${c.name}=${c.value}`)
    .join('; ');
}

// --- HTML forms ----------------------------------------------------------------------------------
const decode = (s) => s.replace(/&(amp|lt|gt|quot|#39|#x27|#x2F);/g, (m, e) => ({
  amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'", '#x2F': '/',
}[e]));
function attributes(text) {
  const out = {};
  for (const m of text.matchAll(/([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    out[m[1].toLowerCase()] = decode(m[2] ?? m[3]);
  }
  return out;
}
function forms(html) {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map((m) => {
    const attrs = attributes(m[1]);
    const fields = {};
    for (const input of m[2].matchAll(/<input\b([^>]*?)\/?>/gi)) {
      const a = attributes(input[1]);
      if (a.name) fields[a.name] = a.value ?? '';
    }
    return { id: attrs.id, action: attrs.action, method: (attrs.method || 'get').toUpperCase(), fields };
  });
}
const byId = (html, id) => {
  const m = new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)<`, 'i').exec(html);
  return m ? decode(m[1]).trim() : undefined;
};
const hrefById = (html, id) => {
  const m = new RegExp(`<a\\b[^>]*id="${id}"[^>]*>`, 'i').exec(html);
  return m ? attributes(m[0]).href : undefined;
};

// --- HTTP ----------------------------------------------------------------------------------------
const providerOrigin = new URL(startUrl).origin;
const leavesProvider = (url) => url.origin !== providerOrigin;

async function request(method, url, form) {
  const headers = { 'user-agent': 'latchkey-test-useragent', accept: 'text/html' };
  const cookies = cookieHeader(url);
  if (cookies) headers.cookie = cookies;
  let body;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  trace(`${method} ${url.origin}${url.pathname}`);
  const res = await fetch(url, {
    method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs),
  });
  storeCookies(res);
  const text = await res.text();
  return { status: res.status, location: res.headers.get('location'), text, url };
}

// The last step: the application's redirect URI, requested once.
async function deliver(url, method = 'GET', form = undefined) {
  process.stdout.write(`REDIRECT ${url.href}\n`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 0;
  let res;
  try {
    const init = { method, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) };
    if (form) {
      init.headers = { 'content-type': 'application/x-www-form-urlencoded' };
      init.body = new URLSearchParams(form).toString();
    }
    res = await fetch(url, init);
    await res.text();
  } catch (err) {
    throw new Failure(`the redirect URI ${url.origin}${url.pathname} did not answer: ${err.cause?.code || err.message}`, 4);
  }
  process.stdout.write(`STATUS ${res.status}\n`);
  return 0;
}

async function run() {
  let res = await request('GET', new URL(startUrl));
  let loginTries = 0;
  let codeTries = 0;
  for (let step = 0; step < 40; step += 1) {
    if (res.status >= 300 && res.status < 400 && res.location) {
      const next = new URL(res.location, res.url);
      if (leavesProvider(next)) return deliver(next);
      res = await request('GET', next);
      continue;
    }
    const html = res.text;
    const all = forms(html);
    const find = (id) => all.find((f) => f.id === id);
    const submit = async (form, extra = {}) => {
      const target = new URL(form.action || res.url.href, res.url);
      const fields = { ...form.fields, ...extra };
      if (leavesProvider(target)) return { done: await deliver(target, form.method, fields) };
      return { res: await request(form.method, target, form.method === 'POST' ? fields : undefined) };
    };
    let outcome;
    if (html.includes('id="device-success"')) {
      process.stdout.write('DEVICE APPROVED\n');
      return 0;
    } else if (html.includes('id="signed-out"')) {
      process.stdout.write('SIGNED OUT\n');
      return 0;
    } else if (find('op.logoutForm')) {
      // RP-initiated logout: "Yes, sign me out" (--deny: stay signed in).
      outcome = await submit(find('op.logoutForm'), opts.deny ? {} : { logout: 'yes' });
    } else if (find('login')) {
      if (opts.deny) {
        res = await request('GET', new URL(hrefById(html, 'abort'), res.url));
        continue;
      }
      if (loginTries++ > 0) {
        throw new Failure(`login rejected for "${opts.login}": ${byId(html, 'error') || 'login form shown again'}`, 3);
      }
      outcome = await submit(find('login'), { login: opts.login, password: opts.password });
    } else if (find('consent')) {
      if (opts.deny) {
        res = await request('GET', new URL(hrefById(html, 'abort'), res.url));
        continue;
      }
      outcome = await submit(find('consent'));
    } else if (find('op.deviceConfirmForm')) {
      outcome = await submit(find('op.deviceConfirmForm'), opts.deny ? { abort: 'yes' } : {});
    } else if (find('op.deviceInputForm')) {
      const error = byId(html, 'error');
      if (opts.deny && error && error.startsWith('AbortedError')) {
        process.stdout.write('DEVICE DENIED\n');
        return 0;
      }
      if (error) throw new Failure(`the provider rejected the user code: ${error}`);
      const code = opts['user-code'];
      if (!code) throw new Failure('the provider asks for the user code: pass --user-code');
      if (codeTries++ > 0) throw new Failure('the user code form came back');
      outcome = await submit(find('op.deviceInputForm'), { user_code: code });
    } else if (all.length === 1 && !all[0].id && all[0].method === 'POST') {
      // An auto-submitting page (response_mode=form_post, the device flow's first page).
      outcome = await submit(all[0]);
    } else {
      const error = byId(html, 'error');
      const description = byId(html, 'error_description');
      throw new Failure(`the provider answered ${res.status} at ${res.url.pathname}`
        + `${error ? `: ${error}` : ''}${description ? ` (${description})` : ''}`);
    }
    if ('done' in outcome) return outcome.done;
    res = outcome.res;
  }
  throw new Failure('too many steps: the provider keeps sending the user agent around');
}

try {
  process.exitCode = await run();
} catch (err) {
  process.stderr.write(`useragent: ${err instanceof Failure ? err.message : `${err.name}: ${err.message}${err.cause ? ` (${err.cause.code || err.cause.message})` : ''}`}\n`);
  process.exitCode = err instanceof Failure ? err.code : 1;
}
