// The API docs page (`/docs`): `/openapi.json` rendered as a page a person can read and try
// requests from. Our own small renderer, with no library and nothing from the network.
//
// Everything that comes from the document is put in the page as text (text nodes, textContent,
// attribute values), never parsed as HTML. The token lives in this module's memory only.

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const MAX_DEPTH = 8; // how deep a schema tree (or an example) goes before it stops

let doc = null; // the OpenAPI document
let token = ""; // the bearer token the reader typed (memory only)
let tokenInput = null;
const tokenWatchers = new Set(); // what to update when the token changes
const operations = []; // {id, method, path, op, group, haystack, el, navItem, rendered}

// ---- DOM helpers ------------------------------------------------------------------------------

/** An element: `attrs` are attributes (`class`, `text`, `value`, `on<event>` are special). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "value") el.value = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  return add(el, ...children);
}

/** Appends children (nodes, text, arrays of them) to `el`, skipping null, undefined and false. */
function add(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Text with a little markdown: blank lines make paragraphs, `backticks` make code. */
function rich(text, className = "prose") {
  const box = h("div", { class: className });
  for (const para of String(text).split(/\n\s*\n/)) {
    if (!para.trim()) continue;
    const p = h("p");
    String(para).split(/(`[^`\n]+`)/).forEach((part, i) => {
      if (i % 2 === 1) p.append(h("code", {}, part.slice(1, -1)));
      else if (part) p.append(part);
    });
    add(box, p);
  }
  return box;
}

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
const json = (v) => JSON.stringify(v);

// ---- the document: $refs, allOf, names --------------------------------------------------------

function resolveRef(ref) {
  if (typeof ref !== "string" || !ref.startsWith("#/")) return null;
  let node = doc;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (!node || typeof node !== "object" || !Object.hasOwn(node, key)) return null;
    node = node[key];
  }
  return node;
}

/** An object that may be a `$ref` (a parameter, a request body, a response), resolved. */
function deref(obj) {
  for (let i = 0; obj && obj.$ref && i < 20; i++) obj = resolveRef(obj.$ref);
  return obj || {};
}

/**
 * A schema with its `$ref`s resolved and `allOf` merged. `stack` is the refs of the schemas
 * around this one: meeting one of them again is a cycle, which is reported, not followed.
 * Returns {s, name, stack, cycle}.
 */
function flatten(schema, stack = []) {
  const seen = [...stack];
  let s = schema && typeof schema === "object" ? schema : {};
  let name = null;
  while (s.$ref) {
    name = s.$ref.split("/").pop();
    if (seen.includes(s.$ref)) return { s: {}, name, stack: seen, cycle: true };
    seen.push(s.$ref);
    s = resolveRef(s.$ref) || {};
  }
  if (Array.isArray(s.allOf)) {
    const merged = { ...s, properties: { ...(s.properties || {}) }, required: [...(s.required || [])] };
    delete merged.allOf;
    for (const part of s.allOf) {
      const f = flatten(part, seen);
      if (f.cycle) return { s: {}, name: f.name, stack: seen, cycle: true };
      name = name || f.name;
      for (const [key, value] of Object.entries(f.s)) {
        if (key === "properties") Object.assign(merged.properties, value);
        else if (key === "required") merged.required.push(...value);
        else if (merged[key] === undefined) merged[key] = value;
      }
    }
    if (!Object.keys(merged.properties).length) delete merged.properties;
    if (!merged.required.length) delete merged.required;
    s = merged;
  }
  return { s, name, stack: seen, cycle: false };
}

function baseType(s) {
  if (s.type) return s.type;
  if (s.properties) return "object";
  if (s.oneOf) return "one of";
  if (s.anyOf) return "any of";
  if (Array.isArray(s.enum) && s.enum.length) return typeof s.enum.find((v) => v !== null);
  return "any";
}

function typeLabel(s, name, stack) {
  let label = baseType(s);
  if (label === "array" && s.items) {
    const item = flatten(s.items, stack);
    label = `array of ${item.name || typeLabel(item.s, null, item.stack)}`;
  }
  if (s.format) label += ` (${s.format})`;
  return name && label !== "array" ? `${name} · ${label}` : label;
}

/** The small facts of a schema: nullable, enum, pattern, bounds, default, example. */
function chips(s) {
  const out = [];
  const chip = (label, value, cls = "") =>
    out.push(h("span", { class: `chip ${cls}` }, label, value !== undefined ? h("code", {}, value) : null));
  if (s.nullable) chip("nullable", undefined, "chip-soft");
  if (s.deprecated) chip("deprecated", undefined, "chip-warn");
  if (s.readOnly) chip("read-only", undefined, "chip-soft");
  if (Array.isArray(s.enum)) chip("one of ", s.enum.map(json).join(" | "));
  if (s.pattern) chip("pattern ", s.pattern);
  const bound = (key, label) => s[key] !== undefined && chip(label, String(s[key]));
  bound("minimum", s.exclusiveMinimum === true ? "> " : "≥ ");
  bound("maximum", s.exclusiveMaximum === true ? "< " : "≤ ");
  bound("minLength", "length ≥ ");
  bound("maxLength", "length ≤ ");
  bound("minItems", "items ≥ ");
  bound("maxItems", "items ≤ ");
  if (s.default !== undefined) chip("default ", json(s.default));
  if (s.example !== undefined) chip("example ", json(s.example));
  return out;
}

// ---- schema trees -----------------------------------------------------------------------------

/** One field of a schema (or the schema itself, when `name` is null), with what is inside it. */
function field(name, schema, { required = false, stack = [], depth = 0, tag = null } = {}) {
  const f = flatten(schema, stack);
  const s = f.s;
  const box = h("div", { class: name === null ? "field field-root" : "field" });
  add(box,
    h(
      "div",
      { class: "field-head" },
      name !== null ? h("code", { class: "field-name" }, name) : null,
      tag ? h("span", { class: "field-in" }, tag) : null,
      h(
        "span",
        { class: "field-type" },
        f.cycle ? `${f.name} (recursive: see above)` : typeLabel(s, f.name, f.stack),
      ),
      required ? h("span", { class: "req" }, "required") : null,
      f.cycle ? null : chips(s),
    ),
  );
  if (s.description) add(box, rich(s.description, "field-desc"));
  if (!f.cycle) {
    const inner = depth < MAX_DEPTH ? inside(s, f.stack, depth + 1) : h("p", { class: "muted" }, "…");
    if (inner) add(box, inner);
  }
  return box;
}

/** What is inside a schema: its properties, its items' properties, or its alternatives. */
function inside(s, stack, depth) {
  const parts = [];
  if (s.properties && Object.keys(s.properties).length) {
    const required = new Set(s.required || []);
    parts.push(
      h(
        "div",
        { class: "fields" },
        Object.entries(s.properties).map(([key, value]) =>
          field(key, value, { required: required.has(key), stack, depth }),
        ),
        s.additionalProperties === true || (s.additionalProperties && typeof s.additionalProperties === "object")
          ? h("p", { class: "muted small" }, "Other properties are allowed.")
          : null,
      ),
    );
  } else if (baseType(s) === "array" && s.items) {
    const item = flatten(s.items, stack);
    const inner = !item.cycle && inside(item.s, item.stack, depth);
    if (inner) parts.push(h("div", { class: "items" }, h("p", { class: "muted small" }, "Each item:"), inner));
  }
  for (const key of ["oneOf", "anyOf"]) {
    if (!Array.isArray(s[key])) continue;
    const words = key === "oneOf" ? "Exactly one of these:" : "At least one of these:";
    parts.push(
      h(
        "div",
        { class: "variants" },
        h("p", { class: "muted small" }, words),
        s[key].map((v, i) => field(`option ${i + 1}`, v, { stack, depth })),
      ),
    );
  }
  return parts.length ? parts : null;
}

// ---- examples ---------------------------------------------------------------------------------

/** An example value of a schema: its `example`, its default, its first enum value, or by type. */
function exampleOf(schema, stack = [], depth = 0) {
  const f = flatten(schema, stack);
  if (f.cycle || depth > MAX_DEPTH) return null;
  const s = f.s;
  if (s.example !== undefined) return s.example;
  if (s.default !== undefined) return s.default;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum.find((v) => v !== null) ?? null;
  const variants = s.oneOf || s.anyOf;
  if (variants && !s.properties) return exampleOf(variants[0], f.stack, depth + 1);
  switch (baseType(s)) {
    case "object": {
      const props = { ...(s.properties || {}) };
      const required = new Set(s.required || []);
      if (variants) {
        const first = flatten(variants[0], f.stack).s;
        for (const [key, value] of Object.entries(first.properties || {})) props[key] ??= value;
        for (const key of first.required || []) required.add(key);
      }
      const keys = Object.keys(props);
      const chosen = keys.some((k) => required.has(k)) ? keys.filter((k) => required.has(k)) : keys;
      return Object.fromEntries(chosen.map((k) => [k, exampleOf(props[k], f.stack, depth + 1)]));
    }
    case "array":
      return s.items ? [exampleOf(s.items, f.stack, depth + 1)] : [];
    case "integer":
    case "number":
      return s.minimum ?? (s.maximum !== undefined ? Math.min(0, s.maximum) : 0);
    case "boolean":
      return false;
    case "string":
      if (s.format === "date-time") return new Date().toISOString().replace(/\.\d+Z$/, "Z");
      if (s.format === "date") return new Date().toISOString().slice(0, 10);
      if (s.format === "uuid") return "00000000-0000-0000-0000-000000000000";
      return "string";
    default:
      return null;
  }
}

// ---- operations -------------------------------------------------------------------------------

/** The group of an operation: its first tag, or its path's prefix (`/api/v1/live`, `/app`, `/`). */
function groupOf(op, path) {
  if (Array.isArray(op.tags) && op.tags.length) return String(op.tags[0]);
  const parts = path.split("/").filter(Boolean).slice(0, -1);
  const version = parts.findIndex((p) => /^v\d+$/.test(p));
  const kept = version >= 0 ? parts.slice(0, version + 2) : parts.slice(0, 1);
  return "/" + kept.join("/");
}

function opId(op, method, path) {
  const raw = op.operationId ? String(op.operationId) : `${method}-${path}`;
  return "op-" + raw.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "");
}

function securityOf(op) {
  const reqs = op.security !== undefined && op.security !== null ? op.security : doc.security || [];
  const schemes = (doc.components && doc.components.securitySchemes) || {};
  const names = new Set();
  for (const req of Array.isArray(reqs) ? reqs : []) for (const key of Object.keys(req || {})) names.add(key);
  return [...names].map((key) => {
    const scheme = schemes[key] || {};
    if (scheme.type === "http" && String(scheme.scheme).toLowerCase() === "bearer") return "a bearer token";
    if (scheme.type === "apiKey") return `an API key (${scheme.name} in ${scheme.in})`;
    return key;
  });
}

function mediaSchema(content) {
  if (!content || typeof content !== "object") return null;
  const media = content["application/json"] || Object.values(content)[0];
  if (!media) return null;
  return { type: content["application/json"] ? "application/json" : Object.keys(content)[0], schema: media.schema };
}

function operationElement(entry) {
  const { id, method, path, op } = entry;
  const secured = securityOf(op).length > 0;
  const el = h(
    "details",
    { class: "op", id, "data-testid": "operation", "data-method": method, "data-path": path },
    h(
      "summary",
      { class: "op-summary" },
      h("span", { class: `method method-${method}` }, method.toUpperCase()),
      h("code", { class: "op-path" }, path),
      secured ? h("span", { class: "lock", title: "Needs a token" }, "token") : null,
      op.summary ? h("span", { class: "op-title" }, op.summary) : null,
    ),
  );
  el.addEventListener("toggle", () => el.open && renderBody(entry));
  return el;
}

/** The inside of an operation, made the first time it is opened. */
function renderBody(entry) {
  if (entry.rendered) return;
  entry.rendered = true;
  const { op, method, path, el, id } = entry;
  const body = h("div", { class: "op-body" });
  const link = h("a", { class: "permalink", href: `#${id}` }, "Link to this operation");
  const opIdNote = op.operationId ? h("span", { class: "muted" }, "operationId ", h("code", {}, op.operationId)) : null;
  add(body, h("div", { class: "op-meta" }, opIdNote, link));
  if (op.description) add(body, rich(op.description));
  const security = securityOf(op);
  add(body,
    h(
      "p",
      { class: security.length ? "security security-on" : "security" },
      security.length ? `Needs ${security.join(" or ")}: Authorization: Bearer <token>.` : "No token needed.",
    ),
  );

  const params = (op.parameters || []).map(deref);
  if (params.length) {
    add(body,
      h("h3", {}, "Parameters"),
      h(
        "div",
        { class: "fields" },
        params.map((p) => {
          const schema = { ...(p.schema || {}), description: p.description || (p.schema && p.schema.description) };
          return field(p.name, schema, { required: !!p.required, tag: `in ${p.in}` });
        }),
      ),
    );
  }

  const requestBody = op.requestBody ? deref(op.requestBody) : null;
  const request = requestBody && mediaSchema(requestBody.content);
  if (request) {
    add(body,
      h(
        "h3",
        {},
        "Request body ",
        h("span", { class: "muted small" }, `${request.type}, ${requestBody.required ? "required" : "optional"}`),
      ),
      requestBody.description ? rich(requestBody.description) : null,
      field(null, request.schema),
    );
  }

  add(body, h("h3", {}, "Responses"));
  for (const [status, raw] of Object.entries(op.responses || {})) {
    const response = deref(raw);
    const media = mediaSchema(response.content);
    const kind = /^[1-5]/.test(status) ? `status-${status[0]}xx` : "status-other";
    add(body,
      h(
        "details",
        { class: "response", open: status.startsWith("2") },
        h(
          "summary",
          {},
          h("span", { class: `status ${kind}` }, status),
          h("span", { class: "response-desc" }, response.description || ""),
        ),
        media ? field(null, media.schema) : h("p", { class: "muted small" }, "No body."),
      ),
    );
  }
  add(body, tryPanel(method, path, op, params, request));
  el.append(body);
}

// ---- try it -----------------------------------------------------------------------------------

function tryPanel(method, path, op, params, request) {
  const what = `${method.toUpperCase()} ${path}`;
  const panel = h("section", { class: "try", "aria-label": `Try ${what}` }, h("h3", {}, "Try it"));
  const inputs = [];
  for (const p of params.filter((x) => ["query", "header", "path"].includes(x.in))) {
    const example = p.example ?? (p.schema ? p.schema.example : undefined);
    const input = h("input", {
      type: "text",
      class: "try-param",
      spellcheck: "false",
      autocomplete: "off",
      placeholder: p.required ? "required" : "optional",
      "aria-label": `${p.name} (${p.in} parameter)`,
      value: example === undefined ? "" : String(example),
    });
    inputs.push({ p, input });
    const label = h("span", { class: "try-label" }, h("code", {}, p.name), ` in ${p.in}`);
    add(panel, h("label", { class: "try-row" }, label, input));
  }

  let textarea = null;
  if (request && method !== "get" && method !== "head") {
    const example = JSON.stringify(exampleOf(request.schema), null, 2);
    textarea = h("textarea", {
      class: "try-body",
      "data-testid": "try-body",
      rows: Math.min(14, example.split("\n").length + 1),
      spellcheck: "false",
      "aria-label": `Request body of ${what} (JSON)`,
    });
    textarea.value = example;
    add(panel, textarea);
  }

  const status = h("span", { class: "try-status", "data-testid": "try-status", role: "status" });
  const requestId = h("span", { class: "try-rid muted small" });
  const output = h("pre", {
    class: "try-response",
    "data-testid": "try-response",
    tabindex: "0",
    "aria-label": "Response body",
  });
  const useToken = h("button", { type: "button", class: "btn btn-quiet", hidden: true }, "Use this token");
  const line = h("div", { class: "try-line" }, status, requestId, useToken);
  const result = h("div", { class: "try-result", hidden: true }, line, output);
  const send = h("button", { type: "button", class: "btn btn-primary", "data-testid": "try-send" }, "Send");
  const note = h("span", { class: "muted small" }, "");
  const refreshNote = () => {
    const secured = securityOf(op).length > 0;
    note.textContent = !secured ? "Sends no token." : token ? "Sends your token." : "No token set: this route answers 401.";
  };
  tokenWatchers.add(refreshNote);
  refreshNote();
  add(panel, h("div", { class: "try-actions" }, send, note), result);

  let fresh = "";
  useToken.addEventListener("click", () => {
    setToken(fresh);
    useToken.textContent = "Token in use";
    useToken.disabled = true;
  });

  send.addEventListener("click", async () => {
    const headers = { "Content-Type": "application/json" };
    // The token goes only to the operations that take one.
    if (token && securityOf(op).length) headers.Authorization = `Bearer ${token}`;
    const query = new URLSearchParams();
    let url = path;
    for (const { p, input } of inputs) {
      const value = input.value;
      if (p.in === "path") url = url.split(`{${p.name}}`).join(encodeURIComponent(value));
      else if (value === "") continue;
      else if (p.in === "query") query.append(p.name, value);
      else headers[p.name] = value;
    }
    if ([...query].length) url += `?${query}`;
    const init = { method: method.toUpperCase(), headers, credentials: "omit", cache: "no-store" };
    if (textarea) init.body = textarea.value;
    send.disabled = true;
    result.hidden = false;
    status.className = "try-status";
    status.textContent = "Sending…";
    requestId.textContent = "";
    output.textContent = "";
    useToken.hidden = true;
    const started = performance.now();
    try {
      const res = await fetch(url, init);
      const text = await res.text();
      const ms = Math.round(performance.now() - started);
      status.textContent = `${res.status} ${res.statusText}`.trim();
      status.classList.add(`status-${String(res.status)[0]}xx`);
      const rid = res.headers.get("x-request-id");
      requestId.textContent = `${rid ? `x-request-id ${rid} · ` : ""}${ms} ms`;
      let parsed;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      output.textContent = parsed === undefined ? text || "(empty body)" : JSON.stringify(parsed, null, 2);
      if (res.ok && parsed && typeof parsed.token === "string" && parsed.token !== token) {
        fresh = parsed.token;
        useToken.textContent = "Use this token";
        useToken.disabled = false;
        useToken.hidden = false;
      }
    } catch (err) {
      status.textContent = "No answer";
      status.classList.add("status-5xx");
      output.textContent = String(err && err.message ? err.message : err);
    } finally {
      send.disabled = false;
    }
  });
  return panel;
}

function setToken(value, fromInput = false) {
  token = value.trim();
  if (tokenInput && !fromInput) tokenInput.value = token;
  for (const watcher of tokenWatchers) watcher();
}

// ---- search and deep links --------------------------------------------------------------------

function applySearch(query, counter, empty) {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  for (const entry of operations) {
    const match = terms.every((t) => entry.haystack.includes(t));
    entry.el.hidden = !match;
    entry.navItem.hidden = !match;
    if (match) shown++;
  }
  for (const group of document.querySelectorAll(".group, .nav-group")) {
    group.hidden = !group.querySelector(".op:not([hidden]), .nav-item:not([hidden])");
  }
  const all = plural(operations.length, "operation", "operations");
  counter.textContent = terms.length ? `${shown} of ${all}` : all;
  empty.hidden = shown > 0;
}

function openFromHash() {
  // A malformed link (`#%E0%A4%A`) opens nothing rather than breaking the page.
  let id;
  try {
    id = decodeURIComponent(location.hash.slice(1));
  } catch (e) {
    return;
  }
  const entry = operations.find((e) => e.id === id);
  if (!entry) return;
  entry.el.hidden = false;
  entry.navItem.hidden = false;
  entry.el.closest(".group").hidden = false;
  renderBody(entry);
  entry.el.open = true;
  entry.el.scrollIntoView({ block: "start" });
  entry.el.querySelector("summary").focus({ preventScroll: true });
}

// ---- the page ---------------------------------------------------------------------------------

function render(root) {
  const info = doc.info || {};
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const method of METHODS) {
      const op = item && item[method];
      if (!op) continue;
      const merged = { ...op, parameters: [...(item.parameters || []), ...(op.parameters || [])] };
      operations.push({
        id: opId(op, method, path),
        method,
        path,
        op: merged,
        group: groupOf(op, path),
        haystack: `${method} ${path} ${op.summary || ""} ${op.operationId || ""}`.toLowerCase(),
        rendered: false,
      });
    }
  }
  const groups = new Map();
  for (const entry of operations) {
    if (!groups.has(entry.group)) groups.set(entry.group, []);
    groups.get(entry.group).push(entry);
  }

  document.title = `${info.title || "API"} ${info.version || ""} · API docs`.replace(/\s+/g, " ");
  const header = h(
    "header",
    { class: "top" },
    h(
      "div",
      { class: "title-row" },
      h("h1", {}, info.title || "API"),
      info.version ? h("span", { class: "version" }, `v${info.version}`) : null,
      doc.openapi ? h("span", { class: "version version-soft" }, `OpenAPI ${doc.openapi}`) : null,
    ),
    info.description ? rich(info.description, "prose lead") : null,
    h(
      "p",
      { class: "muted small" },
      "Requests from this page go to ",
      h("code", {}, location.origin),
      ". The raw document: ",
      h("a", { href: "/openapi.json" }, "/openapi.json"),
      ".",
    ),
  );

  tokenInput = h("input", {
    type: "password",
    id: "docs-token",
    class: "input",
    "data-testid": "docs-token",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "Paste an access token",
  });
  tokenInput.addEventListener("input", () => setToken(tokenInput.value, true));
  const search = h("input", {
    type: "search",
    id: "docs-search",
    class: "input",
    "data-testid": "docs-search",
    autocomplete: "off",
    placeholder: "Filter by path or summary",
  });
  const counter = h("span", { class: "muted small counter", "aria-live": "polite" });
  const toolbar = h(
    "div",
    { class: "toolbar" },
    h("div", { class: "tool" }, h("div", { class: "tool-head" }, h("label", { for: "docs-search" }, "Search"), counter), search),
    h(
      "div",
      { class: "tool" },
      h("label", { for: "docs-token" }, "Bearer token ", h("span", { class: "muted small" }, "(kept in this page only)")),
      tokenInput,
    ),
  );

  const nav = h("nav", { class: "side", "aria-label": "Operations" });
  const main = h("main", { class: "ops" });
  const empty = h("p", { class: "empty", hidden: true }, "No operation matches the search.");
  for (const [name, entries] of groups) {
    const navList = h("ul", {});
    const section = h("section", { class: "group", "aria-label": name }, h("h2", { class: "group-title" }, name));
    for (const entry of entries) {
      entry.el = operationElement(entry);
      section.append(entry.el);
      // In the navigation a path is shown without its group's prefix.
      const short = (name.length > 1 && entry.path.startsWith(name) && entry.path.slice(name.length)) || entry.path;
      entry.navItem = h(
        "li",
        { class: "nav-item" },
        h(
          "a",
          { href: `#${entry.id}`, onclick: () => setTimeout(openFromHash) },
          h("span", { class: `method method-${entry.method} method-small` }, entry.method.toUpperCase()),
          h("span", { class: "nav-path" }, short),
        ),
      );
      navList.append(entry.navItem);
    }
    nav.append(h("div", { class: "nav-group" }, h("h2", { class: "nav-title" }, name), navList));
    main.append(section);
  }
  main.append(empty);
  search.addEventListener("input", () => applySearch(search.value, counter, empty));
  applySearch("", counter, empty);

  root.replaceChildren(header, toolbar, h("div", { class: "layout" }, nav, main));
  window.addEventListener("hashchange", openFromHash);
  if (location.hash) openFromHash();
}

async function main() {
  const root = document.getElementById("docs");
  try {
    const res = await fetch("/openapi.json", { cache: "no-store", credentials: "omit" });
    if (!res.ok) throw new Error(`GET /openapi.json answered ${res.status}`);
    doc = await res.json();
    render(root);
  } catch (err) {
    const why = err && err.message ? err.message : String(err);
    root.replaceChildren(h("p", { class: "empty" }, `The API description could not be loaded: ${why}`));
  }
}

main();
