// HookSentry console: a single-page app with no framework and no build step
// (CONTRACT §7). It is served under a strict Content-Security-Policy, so it
// never uses inline scripts, inline styles, style attributes or eval: every
// element is built with DOM APIs and styled by classes from app.css.
//
// Sign-in is OAuth 2.0 authorization code with PKCE against the issuer named
// by /console/config.json. The access token lives in sessionStorage only
// (never a cookie). Signed out, the console fetches config.json and nothing
// else.

const TOKEN_KEY = "hooksentry.token"; // {accessToken, expiresAt}
const PKCE_KEY = "hooksentry.pkce"; // {verifier, state, returnHash}

const STATUSES = ["Active", "Inactive", "Suspended"];
const AUTH_TYPES = ["ApiKey", "BearerToken", "JwtBearer", "BasicAuth"];
const VERIFICATION_TYPES = ["Stripe", "GitHub", "Shopify", "Slack", "StandardWebhooks", "Hmac"];
const ALERT_TYPES = ["destination.suspended", "destination.recovered", "event.failed"];
const EVENT_STATUSES = ["Pending", "Held", "Delivered", "Failed"];
// The credential fields of each auth type, in the shape the API wants.
const CREDENTIAL_FIELDS = {
  ApiKey: [["headerName", "Header name", "text"], ["value", "Value", "password"]],
  BearerToken: [["token", "Token", "password"]],
  JwtBearer: [
    ["tokenEndpoint", "Token endpoint", "url"],
    ["clientId", "Client ID", "text"],
    ["clientSecret", "Client secret", "password"],
    ["scope", "Scope", "text"],
  ],
  BasicAuth: [["username", "Username", "text"], ["password", "Password", "password"]],
};

let config = null; // /console/config.json
let renderSeq = 0; // bumps on every navigation, so late answers of an old page are dropped
let flash = null; // a message for the next page, such as "Destination deleted."

// ---------------------------------------------------------------- DOM helpers

// h builds an HTML element: attrs holds attributes, "class", "for" and on*
// event listeners; children are nodes, strings, or nested arrays (null skipped).
function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// s builds an SVG element the same way.
function s(tag, attrs, ...children) {
  return build(document.createElementNS("http://www.w3.org/2000/svg", tag), attrs, children);
}

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

const main = () => document.getElementById("app");

// ids of form controls and of their error slots, from an API field path.
const fieldId = (path) => "f-" + path.replace(/[^A-Za-z0-9]+/g, "-");
const errorId = (path) => "e-" + path.replace(/[^A-Za-z0-9]+/g, "-");

// field renders a labelled control with an error slot that problem+json
// errors[].field fill in (showProblem).
function field(path, label, control, hint) {
  control.id = fieldId(path);
  control.name = path;
  control.setAttribute("aria-describedby", errorId(path));
  return h("div", { class: "field" },
    h("label", { for: control.id }, label),
    control,
    hint ? h("p", { class: "hint" }, hint) : null,
    h("p", { class: "field-error", id: errorId(path), "data-field": path }));
}

function select(options, value) {
  const el = h("select", {});
  for (const o of options) {
    const [v, text] = Array.isArray(o) ? o : [o, o];
    el.append(h("option", { value: v, selected: v === value }, text));
  }
  return el;
}

function badge(status) {
  return h("span", { class: "badge badge-" + String(status).toLowerCase() }, status);
}

function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  const text = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return h("time", { datetime: iso, title: iso }, text);
}

function loading(text = "Loading…") {
  return h("p", { class: "loading", role: "status" }, text);
}

function errorBox(err, retry) {
  return h("div", { class: "error-box", role: "alert" },
    h("p", {}, describe(err)),
    retry ? h("button", { type: "button", onclick: retry }, "Try again") : null);
}

function describe(err) {
  if (err instanceof ApiError) {
    const p = err.problem || {};
    return p.detail || p.title || p.message || `The API answered ${err.status}.`;
  }
  return err && err.message ? err.message : String(err);
}

// copyField shows a secret once, read-only, with a "Copy" button.
function copyField(path, label, value) {
  const input = h("input", { type: "text", readonly: true, value, class: "secret", spellcheck: "false" });
  const status = h("span", { class: "copy-status", role: "status" });
  const button = h("button", {
    type: "button", class: "secondary", "aria-label": "Copy " + label.toLowerCase(),
    onclick: async () => {
      status.textContent = (await copy(value, input)) ? "Copied." : "Select the text and copy it.";
    },
  }, "Copy");
  const f = field(path, label, input);
  f.querySelector("label").after(h("div", { class: "copy-row" }, input, button));
  f.append(status);
  return f;
}

async function copy(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // The clipboard API may be refused (permissions, insecure origin):
    // select the text so that the user can copy it by hand.
    input.focus();
    input.select();
    try {
      return document.execCommand("copy");
    } catch {
      return false;
    }
  }
}

// ---------------------------------------------------------------- auth

function readToken() {
  try {
    const t = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || "null");
    if (t && t.accessToken && (!t.expiresAt || t.expiresAt > Date.now())) return t.accessToken;
  } catch {
    /* a damaged entry counts as signed out */
  }
  sessionStorage.removeItem(TOKEN_KEY);
  return null;
}

function base64url(bytes) {
  let bin = "";
  for (const b of new Uint8Array(bytes)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(n) {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

const redirectUri = () => location.origin + "/console/";

// signIn starts the authorization-code flow: a fresh PKCE verifier and
// state, kept in sessionStorage for the return, then off to the issuer.
async function signIn() {
  const verifier = randomString(32);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const state = randomString(16);
  const returnHash = location.hash && location.hash !== "#/" ? location.hash : "#/destinations";
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, returnHash }));
  const url = new URL(config.authorizeUrl, location.href);
  // Set, not replace: a configured authorize URL may carry parameters of
  // its own (Auth0's audience=…), which the issuer needs too.
  const params = {
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    code_challenge: challenge,
    code_challenge_method: "S256",
    state,
    scope: config.scope || "openid",
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  location.assign(url.toString());
}

// completeSignIn handles the issuer's redirect back (?code&state or
// ?error): it exchanges the code for a token and cleans the URL. It returns
// an error message to show, or null.
async function completeSignIn() {
  const params = new URLSearchParams(location.search);
  if (!params.has("code") && !params.has("error")) return null;
  let pending = null;
  try {
    pending = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
  } catch {
    pending = null;
  }
  sessionStorage.removeItem(PKCE_KEY);
  const hash = (pending && pending.returnHash) || location.hash || "#/destinations";
  history.replaceState(null, "", location.pathname + hash);
  if (params.has("error")) {
    return `Sign-in failed: ${params.get("error_description") || params.get("error")}.`;
  }
  if (!pending || pending.state !== params.get("state")) {
    return "Sign-in failed: the answer does not match this browser's sign-in request. Sign in again.";
  }
  try {
    const resp = await fetch(new URL(config.tokenUrl, location.href), {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: params.get("code"),
        redirect_uri: redirectUri(),
        client_id: config.clientId,
        code_verifier: pending.verifier,
      }),
    });
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok || !body.access_token) {
      return `Sign-in failed: ${body.error_description || body.error || "the issuer answered " + resp.status}.`;
    }
    const expiresAt = body.expires_in ? Date.now() + body.expires_in * 1000 : null;
    sessionStorage.setItem(TOKEN_KEY, JSON.stringify({ accessToken: body.access_token, expiresAt }));
    return null;
  } catch (err) {
    return `Sign-in failed: ${err.message}.`;
  }
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  flash = message ? { text: message, kind: "info" } : null;
  if (!message && config && config.logoutUrl) {
    location.assign(config.logoutUrl);
    return;
  }
  render();
}

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title || problem.message)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

// api calls /api/v1 with the bearer token. A 401 signs the console out.
async function api(method, path, body) {
  const token = readToken();
  if (!token) {
    signOut("Sign in to continue.");
    throw new ApiError(401, { detail: "Signed out." });
  }
  const headers = { Authorization: "Bearer " + token, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch((config.apiBase || "") + "/api/v1" + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text };
    }
  }
  if (resp.status === 401) {
    signOut("Your session has ended. Sign in again.");
    throw new ApiError(401, data);
  }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
  const str = q.toString();
  return str ? "?" + str : "";
}

// ---------------------------------------------------------------- routing

// Routes are hashes: #/destinations[?filters], #/destinations/new,
// #/destinations/{id}, #/destinations/{id}/events[?filters], #/events/{id}.
function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/destinations";
  const [path, qs] = raw.split("?");
  const decode = (p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return null; // a malformed escape (#/destinations/%E0): no such page
    }
  };
  const parts = path.split("/").filter(Boolean).map(decode);
  return { parts: parts.includes(null) ? ["not-found"] : parts, params: new URLSearchParams(qs || "") };
}

function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

function renderNav(signedIn) {
  const nav = document.getElementById("nav");
  clear(nav, signedIn
    ? [h("a", { href: "#/destinations" }, "Destinations"),
      h("button", { type: "button", class: "link", onclick: () => signOut() }, "Sign out")]
    : []);
}

// announcePage names the page in the title and moves focus to its heading,
// so that keyboard and screen-reader users land on what changed.
function announcePage(root, page) {
  const heading = page.querySelector("h1");
  document.title = (heading ? heading.textContent + " · " : "") + "HookSentry console";
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: true });
  } else {
    root.focus({ preventScroll: true });
  }
}

async function render() {
  const seq = ++renderSeq;
  const token = readToken();
  renderNav(!!token);
  const root = main();
  const message = flash;
  flash = null;
  if (!token) {
    renderSignedOut(root, message);
    return;
  }
  const { parts, params } = parseHash();
  const page = h("div", { class: "page" });
  clear(root, message ? h("p", { class: "flash flash-" + message.kind, role: "status" }, message.text) : null, page);
  const current = () => seq === renderSeq;
  try {
    if (parts[0] === "destinations" && parts.length === 1) await destinationsPage(page, params, current);
    else if (parts[0] === "destinations" && parts[1] === "new") createPage(page);
    else if (parts[0] === "destinations" && parts.length === 2) await destinationPage(page, parts[1], current);
    else if (parts[0] === "destinations" && parts[2] === "events") await eventsPage(page, parts[1], params, current);
    else if (parts[0] === "events" && parts.length === 2) await eventPage(page, parts[1], current);
    else clear(page, h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/destinations" }, "Back to destinations")));
  } catch (err) {
    if (!current() || (err instanceof ApiError && err.status === 401)) return;
    clear(page, h("h1", {}, "Something went wrong"), errorBox(err, render));
  }
  if (current()) announcePage(root, page);
}

function renderSignedOut(root, message) {
  // config.json says configured: false when the deployment has no issuer.
  const ready = config.configured !== false && config.authorizeUrl && config.tokenUrl && config.clientId;
  clear(root,
    h("section", { class: "signin" },
      h("h1", {}, "HookSentry console"),
      h("p", {}, "Manage your webhook destinations, follow their events and replay failed deliveries."),
      message ? h("p", { class: "flash flash-" + message.kind, role: "status" }, message.text) : null,
      ready ? null : h("p", { class: "flash flash-error", role: "alert" }, "Sign-in is not configured for this console (HOOKSENTRY_CONSOLE_* settings)."),
      h("button", { type: "button", class: "primary", disabled: !ready, onclick: () => signIn().catch((e) => showSignInError(e)) }, "Sign in")));
}

function showSignInError(err) {
  flash = { text: "Sign-in failed: " + err.message, kind: "error" };
  render();
}

// ---------------------------------------------------------------- destinations list

async function destinationsPage(page, params, current) {
  const f = {
    status: params.get("status") || "",
    authType: params.get("authType") || "",
    url: params.get("url") || "",
    Qt: params.get("Qt") || "10",
    Pg: params.get("Pg") || "1",
  };
  const status = select([["", "Any"], ...STATUSES], f.status);
  const authType = select([["", "Any"], ...AUTH_TYPES], f.authType);
  const url = h("input", { type: "search", value: f.url, placeholder: "part of the URL" });
  const qt = select(["10", "25", "50", "100"], f.Qt);
  const filters = h("form", {
    class: "filters", role: "search", "aria-label": "Filter destinations",
    onsubmit: (e) => {
      e.preventDefault();
      go("#/destinations" + query({ status: status.value, authType: authType.value, url: url.value.trim(), Qt: qt.value }));
    },
  },
  field("status", "Status", status),
  field("authType", "Auth type", authType),
  field("url", "URL contains", url),
  field("Qt", "Per page", qt),
  h("div", { class: "field actions" }, h("button", { type: "submit", class: "secondary" }, "Apply")));

  const results = h("div", { class: "results" }, loading());
  clear(page,
    h("div", { class: "page-head" },
      h("h1", {}, "Destinations"),
      h("a", { class: "button primary", href: "#/destinations/new" }, "New destination")),
    filters, results);

  const data = await api("GET", "/destinations" + query(f));
  if (!current()) return;
  if (!data.items.length) {
    clear(results, h("p", { class: "empty" }, data.total ? "No destinations on this page." : "No destinations match."),
      pager(data.total, f, (pg) => "#/destinations" + query({ ...f, Pg: pg })));
    return;
  }
  const rows = data.items.map((d) => h("tr", {},
    h("td", { class: "url" }, h("a", { href: "#/destinations/" + d.id }, d.url)),
    h("td", {}, badge(d.status)),
    h("td", { class: "num" }, d.serverRateLimit),
    h("td", {}, d.authType || "None"),
    h("td", {}, h("a", { class: "button secondary small", href: `#/destinations/${d.id}/events`, "aria-label": "Events", title: "Events of " + d.url }, "Events"))));
  clear(results,
    h("div", { class: "table-wrap" },
      h("table", {},
        h("caption", { class: "visually-hidden" }, "Destinations"),
        h("thead", {}, h("tr", {}, ["URL", "Status", "Rate limit", "Auth type"].map((c) => h("th", { scope: "col" }, c)),
          h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")))),
        h("tbody", {}, rows))),
    pager(data.total, f, (pg) => "#/destinations" + query({ ...f, Pg: pg })));
}

// pager renders "Page X of Y" with previous/next links like the API's Qt/Pg.
function pager(total, f, hashFor) {
  const qt = Number(f.Qt) || 10;
  const pg = Number(f.Pg) || 1;
  const pages = Math.max(1, Math.ceil(total / qt));
  return h("nav", { class: "pager", "aria-label": "Pages" },
    pg > 1 ? h("a", { href: hashFor(pg - 1), class: "button secondary small" }, "Previous") : null,
    h("span", {}, `Page ${pg} of ${pages} (${total} in all)`),
    pg < pages ? h("a", { href: hashFor(pg + 1), class: "button secondary small" }, "Next") : null);
}

// ---------------------------------------------------------------- destination form

// destinationForm builds the create form (orig null) or the edit form.
// onSubmit receives the request body, or null when nothing changed.
function destinationForm(orig, onSubmit) {
  const editing = !!orig;
  const o = orig || { url: "", serverRateLimit: 5, authType: null, verification: null, deduplication: null, alerts: [], status: "Active" };

  const url = h("input", { type: "url", required: true, value: o.url, placeholder: "https://example.com/webhooks", autocomplete: "off" });
  const rate = h("input", { type: "number", min: 1, max: 1000, step: 1, required: true, value: o.serverRateLimit });
  const status = editing
    ? select([...(o.status === "Suspended" ? [["", "Suspended (keep)"]] : []), ["active", "Active"], ["inactive", "Inactive"]],
      o.status === "Suspended" ? "" : o.status.toLowerCase())
    : null;

  // Authentication: one fieldset of credential fields per auth type.
  const authType = select([["", "None"], ...AUTH_TYPES], o.authType || "");
  const credGroups = {};
  for (const [type, fields] of Object.entries(CREDENTIAL_FIELDS)) {
    credGroups[type] = h("div", { class: "subfields", "data-auth": type },
      fields.map(([name, label, kind]) => field("credentials." + name, label,
        h("input", { type: kind, autocomplete: "off", "data-cred": name }),
        name === "scope" ? "Optional." : name === "password" && type === "BasicAuth" ? "May be empty." : null)));
  }
  const credHint = editing && o.authType
    ? h("p", { class: "hint" }, "Credentials are never shown. Leave them empty to keep the current ones.")
    : null;
  const showAuth = () => {
    for (const [type, el] of Object.entries(credGroups)) el.hidden = authType.value !== type;
    if (credHint) credHint.hidden = authType.value !== o.authType;
  };
  authType.addEventListener("change", showAuth);

  // Inbound verification.
  const vOrig = o.verification ? o.verification.type : "";
  const vType = select([["", "None"], ...VERIFICATION_TYPES], vOrig);
  const vSecret = h("input", { type: "password", autocomplete: "off" });
  const hmac = {
    header: h("input", { type: "text", placeholder: "X-Signature" }),
    algorithm: select(["sha256", "sha1", "sha512"], "sha256"),
    encoding: select(["hex", "base64"], "hex"),
    prefix: h("input", { type: "text", placeholder: "sha256=" }),
  };
  const hmacGroup = h("div", { class: "subfields" },
    editing && vOrig ? h("p", { class: "hint" }, "The API does not show the current Hmac settings: to change any of them, enter all of them again with the secret.") : null,
    field("verification.header", "Signature header", hmac.header),
    field("verification.algorithm", "Algorithm", hmac.algorithm),
    field("verification.encoding", "Encoding", hmac.encoding),
    field("verification.prefix", "Prefix", hmac.prefix, "Optional."));
  const secretGroup = h("div", { class: "subfields" },
    field("verification.secret", "Verification secret", vSecret,
      editing && vOrig ? "Leave empty to keep the current secret (required to change the type)." : null));
  const showVerification = () => {
    secretGroup.hidden = vType.value === "";
    hmacGroup.hidden = vType.value !== "Hmac";
  };
  vType.addEventListener("change", showVerification);

  // Deduplication.
  const dKey = h("input", { type: "text", value: o.deduplication ? o.deduplication.key : "", placeholder: "header:Idempotency-Key or body:data.id" });
  const dWindow = h("input", { type: "text", value: o.deduplication ? o.deduplication.window : "", placeholder: "1h" });

  // Alerts.
  const alertBoxes = ALERT_TYPES.map((a) => h("input", { type: "checkbox", value: a, id: "f-alert-" + a.replace(/\./g, "-"), checked: o.alerts.includes(a) }));

  const formError = h("div", { class: "form-error", role: "alert", tabindex: -1 });
  const submit = h("button", { type: "submit", class: "primary" }, editing ? "Save" : "Create");

  const form = h("form", { class: "destination-form", novalidate: true },
    formError,
    field("url", "URL", url, "An https URL that receives the webhooks."),
    field("serverRateLimit", "Rate limit (requests in flight)", rate, "1 to 1000."),
    status ? field("status", "Status", status) : null,
    h("fieldset", {}, h("legend", {}, "Authentication"),
      field("authType", "Auth type", authType), credHint, Object.values(credGroups)),
    h("fieldset", {}, h("legend", {}, "Inbound verification"),
      field("verification.type", "Verification type", vType), secretGroup, hmacGroup),
    h("fieldset", {}, h("legend", {}, "Deduplication"),
      field("deduplication.key", "Deduplication key", dKey, "Leave empty for none."),
      field("deduplication.window", "Deduplication window", dWindow, "A duration from 1s to 24h; default 1h.")),
    h("fieldset", {}, h("legend", {}, "Alerts"),
      h("p", { class: "hint" }, "Receive operational events about this tenant's other destinations."),
      alertBoxes.map((box) => h("div", { class: "check" }, box, h("label", { for: box.id }, box.value))),
      h("p", { class: "field-error", id: errorId("alerts"), "data-field": "alerts" })),
    h("div", { class: "actions" }, submit));
  showAuth();
  showVerification();

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearErrors(form);
    const body = {};
    const changed = (k, v, was) => {
      if (!editing || v !== was) body[k] = v;
    };
    changed("url", url.value.trim(), o.url);
    const n = Number(rate.value);
    if (!Number.isInteger(n) || rate.value === "") {
      showFieldError(form, "serverRateLimit", "must be a whole number from 1 to 1000");
      return;
    }
    changed("serverRateLimit", n, o.serverRateLimit);
    if (status && status.value !== "" && status.value !== o.status.toLowerCase()) body.status = status.value;

    // Auth: a new type needs its credentials; None removes it on edit;
    // the same type with filled-in fields replaces the credentials.
    const at = authType.value;
    const creds = {};
    let anyCred = false;
    if (at) {
      for (const input of credGroups[at].querySelectorAll("[data-cred]")) {
        const name = input.dataset.cred;
        if (input.value !== "") anyCred = true;
        if (input.value !== "" || (name === "password" && at === "BasicAuth")) creds[name] = input.value;
      }
    }
    if (!editing) {
      if (at) Object.assign(body, { authType: at, credentials: creds });
    } else if (at !== (o.authType || "")) {
      if (at) Object.assign(body, { authType: at, credentials: creds });
      else body.removeAuth = true;
    } else if (at && anyCred) {
      body.credentials = creds;
    }

    // Verification: sent when the type changes or a secret is given.
    const vt = vType.value;
    if (vt === "") {
      if (editing && vOrig) body.verification = null;
    } else if (!editing || vt !== vOrig || vSecret.value !== "") {
      const v = { type: vt, secret: vSecret.value };
      if (vt === "Hmac") {
        Object.assign(v, { header: hmac.header.value.trim(), algorithm: hmac.algorithm.value, encoding: hmac.encoding.value });
        if (hmac.prefix.value) v.prefix = hmac.prefix.value;
      }
      body.verification = v;
    }

    // Deduplication: empty key means none.
    const key = dKey.value.trim();
    const win = dWindow.value.trim();
    const was = o.deduplication;
    if (key === "") {
      if (editing && was) body.deduplication = null;
    } else if (!editing || !was || key !== was.key || (win || "1h") !== was.window) {
      body.deduplication = win ? { key, window: win } : { key };
    }

    const alerts = alertBoxes.filter((b) => b.checked).map((b) => b.value);
    if (!editing) body.alerts = alerts;
    else if ([...alerts].sort().join() !== [...o.alerts].sort().join()) body.alerts = alerts;

    if (editing && Object.keys(body).length === 0) {
      formError.append(h("p", { class: "info" }, "Nothing changed."));
      return;
    }
    submit.disabled = true;
    try {
      await onSubmit(body);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      showProblem(form, err);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function clearErrors(form) {
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  clear(form.querySelector(".form-error"));
}

function showFieldError(form, path, message) {
  const slot = form.querySelector(`#${errorId(path)}`);
  if (!slot) return false;
  slot.textContent = slot.textContent ? slot.textContent + "; " + message : message;
  const control = form.querySelector(`#${fieldId(path)}`);
  if (control) control.setAttribute("aria-invalid", "true");
  return true;
}

// showProblem puts problem+json errors[] next to their fields (the nearest
// slot of a dotted path, e.g. credentials.value, credentials) and the
// detail at the top of the form.
function showProblem(form, err) {
  const formError = form.querySelector(".form-error");
  const p = (err instanceof ApiError && err.problem) || {};
  const unplaced = [];
  for (const e of p.errors || []) {
    const segments = String(e.field || "").split(".");
    let placed = false;
    while (segments.length && !placed) {
      placed = showFieldError(form, segments.join("."), e.message);
      segments.pop();
    }
    if (!placed) unplaced.push(`${e.field}: ${e.message}`);
  }
  formError.append(h("p", {}, describe(err)));
  if (unplaced.length) formError.append(h("ul", {}, unplaced.map((m) => h("li", {}, m))));
  const first = form.querySelector("[aria-invalid]");
  (first || formError).focus?.();
}

// ---------------------------------------------------------------- create

function createPage(page) {
  const holder = h("div", {});
  const form = destinationForm(null, async (body) => {
    const d = await api("POST", "/destinations", body);
    clear(page,
      h("h1", {}, "Destination created"),
      secretsPanel("Copy these now: they are shown only once.", [
        ["ingestToken", "Ingest token", d.ingestToken],
        ["signingSecret", "Signing secret", d.signingSecret],
      ]),
      h("p", {}, "Send webhooks to ", h("code", {}, location.origin + "/ingest/" + d.ingestToken), "."),
      h("p", { class: "actions" },
        h("a", { class: "button primary", href: "#/destinations/" + d.id }, "Open destination"),
        h("a", { class: "button secondary", href: "#/destinations" }, "Back to destinations")));
    page.querySelector("h1").focus?.();
  });
  clear(page, h("h1", {}, "New destination"), holder);
  holder.append(form);
  form.querySelector("input").focus();
}

function secretsPanel(note, secrets) {
  return h("section", { class: "secrets", "aria-label": "Secrets" },
    h("p", { class: "warning" }, note),
    secrets.map(([path, label, value]) => copyField("secret." + path, label, value)));
}

// ---------------------------------------------------------------- destination detail

async function destinationPage(page, id, current) {
  clear(page, loading());
  const d = await api("GET", "/destinations/" + encodeURIComponent(id));
  if (!current()) return;
  const saved = h("div", { role: "status", class: "saved" });
  const secretSlot = h("div", {});
  const dialog = deleteDialog(d);

  const form = destinationForm(d, async (body) => {
    const updated = await api("PATCH", "/destinations/" + d.id, body);
    flash = { text: "Saved.", kind: "success" };
    // Re-render with the new values (and a fresh "changed" baseline).
    if (current()) render();
    return updated;
  });

  const secretAction = (label, path, key, name) => h("button", {
    type: "button", class: "secondary",
    onclick: async (e) => {
      e.target.disabled = true;
      try {
        const out = await api("POST", `/destinations/${d.id}/${path}`);
        clear(secretSlot, secretsPanel("The previous value stops working" +
          (key === "signingSecret" ? " after 24 hours" : " now") + ". Copy the new one: it is shown only once.",
        [[key, name, out[key]]]));
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 401)) clear(secretSlot, errorBox(err));
      } finally {
        e.target.disabled = false;
      }
    },
  }, label);

  clear(page,
    h("div", { class: "page-head" },
      h("h1", { class: "url" }, d.url),
      h("a", { class: "button secondary", href: `#/destinations/${d.id}/events` }, "Events")),
    h("dl", { class: "facts" },
      h("dt", {}, "Status"), h("dd", {}, badge(d.status)),
      h("dt", {}, "ID"), h("dd", {}, h("code", {}, d.id)),
      h("dt", {}, "Auth type"), h("dd", {}, d.authType || "None"),
      h("dt", {}, "Verification"), h("dd", {}, d.verification ? d.verification.type : "None"),
      h("dt", {}, "Deduplication"), h("dd", {}, d.deduplication ? `${d.deduplication.key} for ${d.deduplication.window}` : "None"),
      h("dt", {}, "Alerts"), h("dd", {}, d.alerts.length ? d.alerts.join(", ") : "None"),
      h("dt", {}, "Created"), h("dd", {}, fmtTime(d.createdAt)),
      h("dt", {}, "Updated"), h("dd", {}, fmtTime(d.updatedAt))),
    saved,
    h("section", { "aria-labelledby": "h-edit" }, h("h2", { id: "h-edit" }, "Edit"), form),
    h("section", { "aria-labelledby": "h-secrets" },
      h("h2", { id: "h-secrets" }, "Ingest token and signing secret"),
      h("p", { class: "actions" },
        secretAction("Regenerate ingest token", "ingest-token", "ingestToken", "Ingest token"),
        secretAction("Rotate signing secret", "signing-secret", "signingSecret", "Signing secret")),
      secretSlot),
    h("section", { "aria-labelledby": "h-danger", class: "danger" },
      h("h2", { id: "h-danger" }, "Delete"),
      h("p", {}, "Deleting a destination also deletes its events."),
      h("button", { type: "button", class: "danger", onclick: () => dialog.showModal() }, "Delete")),
    dialog);
}

// deleteDialog asks for confirmation in the page (a modal <dialog>).
function deleteDialog(d) {
  const err = h("div", { role: "alert", class: "form-error" });
  const dialog = h("dialog", { "aria-labelledby": "h-confirm" },
    h("h2", { id: "h-confirm" }, "Delete this destination?"),
    h("p", { class: "url" }, d.url),
    h("p", {}, "Its events are deleted too. This cannot be undone."),
    err,
    h("form", { method: "dialog", class: "actions" },
      h("button", { type: "submit", value: "cancel", class: "secondary" }, "Cancel"),
      h("button", {
        type: "button", class: "danger",
        onclick: async (e) => {
          e.target.disabled = true;
          try {
            await api("DELETE", "/destinations/" + d.id);
            dialog.close();
            flash = { text: "Destination deleted.", kind: "success" };
            go("#/destinations");
          } catch (ex) {
            if (ex instanceof ApiError && ex.status === 401) return;
            clear(err, describe(ex));
            e.target.disabled = false;
          }
        },
      }, "Delete")));
  return dialog;
}

// ---------------------------------------------------------------- events list

// Converts between <input type=datetime-local> (local time) and RFC 3339.
function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d)) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
// fromLocalInput reads a minute; endOfMinute makes "until 12:30" take the
// whole of 12:30 (the API's to is inclusive, to the millisecond).
function fromLocalInput(v, endOfMinute) {
  if (!v) return "";
  const d = new Date(v);
  if (isNaN(d)) return "";
  if (endOfMinute) d.setSeconds(59, 999);
  return d.toISOString();
}

async function eventsPage(page, id, params, current) {
  clear(page, loading());
  const d = await api("GET", "/destinations/" + encodeURIComponent(id));
  if (!current()) return;
  const f = {
    status: params.get("status") || "",
    from: params.get("from") || "",
    to: params.get("to") || "",
    Qt: params.get("Qt") || "25",
    Pg: params.get("Pg") || "1",
  };
  const base = `#/destinations/${d.id}/events`;
  const status = select([["", "Any"], ...EVENT_STATUSES], f.status);
  const from = h("input", { type: "datetime-local", value: toLocalInput(f.from) });
  const to = h("input", { type: "datetime-local", value: toLocalInput(f.to) });
  const qt = select(["10", "25", "50", "100"], f.Qt);
  const filters = h("form", {
    class: "filters", role: "search", "aria-label": "Filter events",
    onsubmit: (e) => {
      e.preventDefault();
      go(base + query({ status: status.value, from: fromLocalInput(from.value), to: fromLocalInput(to.value, true), Qt: qt.value }));
    },
  },
  field("ev-status", "Status", status),
  field("ev-from", "Received from", from),
  field("ev-to", "Received until", to),
  field("ev-Qt", "Per page", qt),
  h("div", { class: "field actions" }, h("button", { type: "submit", class: "secondary" }, "Apply")));

  const replayMsg = h("p", { role: "status", class: "replay-result" });
  const chart = h("div", { class: "chart-wrap" }, loading("Loading chart…"));
  const results = h("div", { class: "results" }, loading());
  const refresh = () => render();
  clear(page,
    h("p", { class: "crumbs" }, h("a", { href: "#/destinations" }, "Destinations"), " / ",
      h("a", { href: "#/destinations/" + d.id }, d.url)),
    h("div", { class: "page-head" },
      h("h1", {}, "Events"),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", onclick: refresh }, "Refresh"),
        h("button", {
          type: "button", class: "primary",
          onclick: async (e) => {
            e.target.disabled = true;
            replayMsg.textContent = "Replaying…";
            try {
              // A call replays at most 1,000 (CONTRACT §5): call again
              // while some remain, a bounded number of times.
              let replayed = 0, out;
              for (let calls = 0; calls < 20; calls++) {
                out = await api("POST", `/destinations/${d.id}/events/replay`, { status: "Failed" });
                replayed += out.replayed;
                if (out.remaining === 0 || out.replayed === 0) break;
              }
              replayMsg.textContent = `Replayed ${replayed}, remaining ${out.remaining}.`;
              await loadEvents(results, d, f, base, current);
            } catch (err) {
              replayMsg.textContent = describe(err);
            } finally {
              e.target.disabled = false;
            }
          },
        }, "Replay failed"))),
    h("p", { class: "url" }, d.url, " ", badge(d.status)),
    replayMsg,
    h("section", { "aria-labelledby": "h-chart" }, h("h2", { id: "h-chart" }, "Last 24 hours"), chart),
    h("section", { "aria-labelledby": "h-list" }, h("h2", { id: "h-list" }, "History"), filters, results));

  await Promise.all([
    api("GET", `/destinations/${d.id}/events/stats`)
      .then((st) => current() && clear(chart, statsChart(st)))
      .catch((err) => current() && clear(chart, errorBox(err))),
    loadEvents(results, d, f, base, current),
  ]);
}

async function loadEvents(results, d, f, base, current) {
  let data;
  try {
    data = await api("GET", `/destinations/${d.id}/events` + query(f));
  } catch (err) {
    if (current()) clear(results, errorBox(err, render));
    return;
  }
  if (!current()) return;
  const pages = pager(data.total, f, (pg) => base + query({ ...f, Pg: pg }));
  if (data.totalCapped) pages.append(h("span", { class: "hint" }, " (at least; narrow with from/to)"));
  if (!data.items.length) {
    const text = data.total > 0 ? "No events on this page." : "No events match.";
    clear(results, h("p", { class: "empty" }, text), pages);
    return;
  }
  clear(results,
    h("div", { class: "table-wrap" },
      h("table", { class: "events" },
        h("caption", { class: "visually-hidden" }, "Events"),
        h("thead", {}, h("tr", {}, ["Event", "Status", "Attempts", "Received", "Last attempt"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, data.items.map((ev) => h("tr", { "data-event-id": ev.id },
          h("td", {}, h("a", { href: "#/events/" + ev.id, class: "mono" }, ev.id)),
          h("td", {}, badge(ev.status)),
          h("td", { class: "num" }, ev.attemptCount),
          h("td", {}, fmtTime(ev.receivedAt)),
          h("td", {}, fmtTime(ev.lastAttemptAt))))))),
    pages);
}

// statsChart draws stacked bars of events per hour by status, as SVG built
// with DOM calls; colours come from classes in app.css.
function statsChart(st) {
  const buckets = st.buckets || [];
  const W = 720, H = 220, left = 40, bottom = 28, top = 10;
  const totals = buckets.map((b) => EVENT_STATUSES.reduce((n, k) => n + (b.counts[k] || 0), 0));
  const max = Math.max(1, ...totals);
  // A round axis maximum: 1, 2, 5, 10, 20, 50…
  let step = 1;
  for (let i = 1; max / step > 5; i++) step = [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3);
  const yMax = Math.ceil(max / step) * step;
  const plotH = H - bottom - top;
  const bw = buckets.length ? (W - left) / buckets.length : 0;
  const y = (v) => top + plotH - (v / yMax) * plotH;
  const sum = EVENT_STATUSES.map((k) => [k, buckets.reduce((n, b) => n + (b.counts[k] || 0), 0)]);
  const label = "Events per hour by status, last 24 hours: " + sum.map(([k, n]) => `${n} ${k}`).join(", ");

  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": label });
  for (let v = 0; v <= yMax; v += step) {
    svg.append(s("line", { x1: left, x2: W, y1: y(v), y2: y(v), class: "grid" }),
      s("text", { x: left - 6, y: y(v) + 4, class: "axis", "text-anchor": "end" }, String(v)));
  }
  buckets.forEach((b, i) => {
    let acc = 0;
    const x = left + i * bw + 2;
    const g = s("g", {}, s("title", {}, `${new Date(b.start).toLocaleString()}: ` +
      EVENT_STATUSES.map((k) => `${b.counts[k] || 0} ${k}`).join(", ")));
    for (const k of EVENT_STATUSES) {
      const n = b.counts[k] || 0;
      if (!n) continue;
      g.append(s("rect", { x, width: Math.max(1, bw - 4), y: y(acc + n), height: y(acc) - y(acc + n), class: "bar bar-" + k.toLowerCase() }));
      acc += n;
    }
    // A transparent full-height target so the tooltip works on empty hours.
    g.append(s("rect", { x: left + i * bw, width: bw, y: top, height: plotH, class: "hit" }));
    svg.append(g);
    if (i % 6 === 0 || i === buckets.length - 1) {
      const d = new Date(b.start);
      const last = i === buckets.length - 1;
      svg.append(s("text", { x: last ? W : x + bw / 2 - 2, y: H - 8, class: "axis", "text-anchor": last ? "end" : "middle" },
        String(d.getHours()).padStart(2, "0") + ":00"));
    }
  });
  const legend = h("ul", { class: "legend" }, sum.map(([k, n]) =>
    h("li", {}, h("span", { class: "swatch swatch-" + k.toLowerCase(), "aria-hidden": "true" }), `${k}: ${n}`)));
  return [svg, legend];
}

// ---------------------------------------------------------------- event detail

async function eventPage(page, id, current) {
  clear(page, loading());
  const ev = await api("GET", "/events/" + encodeURIComponent(id));
  if (!current()) return;
  const replayMsg = h("p", { role: "status", class: "replay-result" });
  const replay = h("button", {
    type: "button", class: "primary",
    onclick: async () => {
      replay.disabled = true;
      try {
        const out = await api("POST", `/events/${ev.id}/replay`);
        replayMsg.textContent = `Replay queued: the event is ${out.status}.`;
      } catch (err) {
        replayMsg.textContent = err instanceof ApiError && err.status === 409
          ? "This event is already pending: it will be attempted soon, so it cannot be replayed now."
          : describe(err);
      } finally {
        replay.disabled = false;
      }
    },
  }, "Replay");

  // The payload: pretty JSON when it parses, else text; base64 is binary.
  let payload = ev.body;
  let note = null;
  if (ev.bodyEncoding === "base64") note = "The body is not UTF-8 text: shown as base64.";
  else {
    try {
      payload = JSON.stringify(JSON.parse(ev.body), null, 2);
    } catch {
      /* not JSON: shown as text */
    }
  }
  const headers = Object.entries(ev.headers || {}).sort(([a], [b]) => a.localeCompare(b));

  clear(page,
    h("p", { class: "crumbs" }, h("a", { href: "#/destinations" }, "Destinations"), " / ",
      h("a", { href: `#/destinations/${ev.destinationId}/events` }, "Events")),
    h("div", { class: "page-head" },
      h("h1", {}, "Event ", h("span", { class: "mono" }, ev.id)),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", onclick: () => render() }, "Refresh"), replay)),
    replayMsg,
    h("dl", { class: "facts" },
      h("dt", {}, "Status"), h("dd", {}, badge(ev.status)),
      h("dt", {}, "Attempts"), h("dd", {}, ev.attemptCount),
      h("dt", {}, "Received"), h("dd", {}, fmtTime(ev.receivedAt)),
      h("dt", {}, "Last attempt"), h("dd", {}, fmtTime(ev.lastAttemptAt)),
      h("dt", {}, "Next attempt"), h("dd", {}, fmtTime(ev.nextAttemptAt)),
      h("dt", {}, "Delivered"), h("dd", {}, fmtTime(ev.deliveredAt)),
      h("dt", {}, "Content type"), h("dd", {}, ev.contentType || "—")),
    h("section", { "aria-labelledby": "h-payload" },
      h("h2", { id: "h-payload" }, "Payload"),
      note ? h("p", { class: "hint" }, note) : null,
      h("pre", { class: "payload", tabindex: 0 }, payload)),
    h("section", { "aria-labelledby": "h-headers" },
      h("h2", { id: "h-headers" }, "Headers"),
      headers.length
        ? h("div", { class: "table-wrap" }, h("table", {},
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Value"))),
          h("tbody", {}, headers.flatMap(([k, vs]) => vs.map((v) => h("tr", {}, h("td", { class: "mono" }, k), h("td", { class: "mono wrap" }, v)))))))
        : h("p", { class: "empty" }, "No headers.")),
    h("section", { "aria-labelledby": "h-attempts" },
      h("h2", { id: "h-attempts" }, "Attempts"),
      ev.attempts.length
        ? h("ol", { class: "timeline" }, ev.attempts.map((a) => h("li", { class: "attempt attempt-" + a.outcome.toLowerCase() },
          h("div", { class: "attempt-head" },
            h("strong", {}, `Attempt ${a.number}`), " ", badge(a.outcome), " ", fmtTime(a.startedAt)),
          h("dl", { class: "facts compact" },
            h("dt", {}, "Duration"), h("dd", {}, `${a.durationMs} ms`),
            h("dt", {}, "Trigger"), h("dd", {}, a.trigger),
            h("dt", {}, "Status code"), h("dd", {}, a.statusCode ?? "—"),
            h("dt", {}, "Error"), h("dd", {}, a.error || "—")),
          a.responseBody ? h("pre", { class: "payload small" }, a.responseBody) : null)))
        : h("p", { class: "empty" }, "No attempts yet.")));
}

// ---------------------------------------------------------------- start

async function start() {
  try {
    const resp = await fetch("/console/config.json", { headers: { Accept: "application/json" } });
    if (!resp.ok) throw new Error(`config.json answered ${resp.status}`);
    config = await resp.json();
  } catch (err) {
    clear(main(), h("h1", {}, "HookSentry console"), errorBox(new Error("The console's configuration could not be loaded: " + err.message), () => location.reload()));
    return;
  }
  const failure = await completeSignIn();
  if (failure) flash = { text: failure, kind: "error" };
  window.addEventListener("hashchange", render);
  // A page restored from the back/forward cache after sign-out would still
  // show what the signed-in console had loaded: render it again.
  window.addEventListener("pageshow", (e) => {
    if (e.persisted) render();
  });
  render();
}

start();
