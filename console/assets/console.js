// The liveroom operator console: one page over the admin API (`POST /api/v1/admin/<name>`).
//
// No library and no build step. Every element is made with `h` (or `svg`) and everything the
// server or a user supplied goes into the page as text nodes or attribute values, never as HTML.
// The operator's token lives in this tab's session storage only (never local storage or a
// cookie); a 401 from any call returns to the sign-in form. What an operator may do follows the
// scopes `whoami` names: a view or an action outside them is not shown, or shown disabled.

const TOKEN_KEY = "liveroom.console.token";
const ROOMS_EVERY_MS = 3000;
const ROOM_EVERY_MS = 5000;
const PAGE_SIZE = 20;
const MEMBER_PAGES_MAX = 40;
const MEMBER_PAGES_REFRESHED = 4;
const ROLES = ["admin", "moderator", "auditor"];
const SCOPES = ["rooms:read", "rooms:write", "users:read", "users:write", "audit:read", "admin"];
const ACTIONS = [
  "room.stop", "room.kick", "room.mute", "room.unmute", "room.delete",
  "user.disable", "user.enable", "user.roles", "user.logout_all", "user.delete",
  "key.create", "key.revoke", "vendor.stream_cut", "vendor.member_removed",
  "vendor.recording_started", "vendor.recording_stopped",
];
const BANS = [
  ["600", "10 minutes"], ["3600", "1 hour"], ["86400", "1 day"],
  ["604800", "7 days"], ["2592000", "30 days"],
];

// ---- DOM ---------------------------------------------------------------------------------

// Bidirectional controls (U+202A–202E, U+2066–2069, U+200E/200F, U+061C) in what a user typed
// would reorder the text around them: each is shown as its code point instead.
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;

function visible(text) {
  return text.replace(BIDI, (c) => `⟨U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}⟩`);
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(visible(String(child))));
  }
  return el;
}

function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "testid") {
      el.setAttribute("data-testid", value);
    } else if (key === "class") {
      el.setAttribute("class", value);
    } else if (key === "value" && "value" in el) {
      el.value = value;
    } else if (key === "checked") {
      el.checked = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  return el;
}

/** An HTML element: `h("td", {class: "num"}, text, child, …)`. */
function h(tag, attrs, ...children) {
  return append(setAttrs(document.createElement(tag), attrs), children);
}

/** An SVG element. */
function svg(tag, attrs, ...children) {
  return append(setAttrs(document.createElementNS("http://www.w3.org/2000/svg", tag), attrs), children);
}

function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A label around a control: every control has one. */
function field(label, control, hint) {
  return h("label", { class: "field" }, h("span", { class: "field-label" }, label), control,
    hint ? h("span", { class: "hint" }, hint) : null);
}

/** A link's part as text; a malformed escape is kept as it is (it names no room). */
function safeDecode(part) {
  try {
    return decodeURIComponent(part);
  } catch (e) {
    return part;
  }
}

function when(iso) {
  if (!iso) return "";
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? String(iso) : t.toLocaleString();
}

function timeCell(iso) {
  return h("td", { "data-label": "" }, iso ? h("time", { datetime: iso, title: iso }, when(iso)) : "—");
}

function num(n) {
  return typeof n === "number" ? n.toLocaleString() : "—";
}

function actorText(actor) {
  if (!actor) return "";
  return actor.kind === "user" ? actor.id : `${actor.kind}:${actor.id}`;
}

function roomStatus(room) {
  if (room.status === 1) return "live";
  if (room.status === 2) return "ended";
  return room.started_at ? "paused" : "prepared";
}

function metricsOf(room) {
  const m = Array.isArray(room.metrics) ? room.metrics[0] : room.metrics;
  return m || {};
}

/** A table whose rows read as cards on a narrow screen (each cell says what it is). */
function table(testid, headers, rows, empty) {
  const body = h("tbody", {}, rows);
  if (!rows.length) body.append(h("tr", { class: "empty" }, h("td", { colspan: headers.length }, empty)));
  for (const tr of rows) {
    [...tr.children].forEach((td, i) => {
      if (headers[i]) td.setAttribute("data-label", headers[i]);
    });
  }
  return h("div", { class: "table-wrap" },
    h("table", { testid },
      h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col" }, name)))),
      body));
}

// ---- state, API ------------------------------------------------------------------------

const app = {
  token: null,
  me: null, // whoami: {actor, roles, scopes}
  timers: [],
  root: null,
  banner: null,
  main: null,
  dialog: null,
};

class Failure extends Error {
  constructor(status, body) {
    super((body && body.message) || `the server answered ${status}`);
    this.status = status;
    this.reason = body && body.reason;
  }
}

function may(scope) {
  return Boolean(app.me && app.me.scopes.includes(scope));
}

async function post(path, body, token) {
  let response;
  try {
    response = await fetch(path, {
      method: "POST",
      headers: Object.assign(
        { "Content-Type": "application/json" },
        token ? { Authorization: `Bearer ${token}` } : {},
      ),
      body: JSON.stringify(body || {}),
      cache: "no-store",
      credentials: "omit",
    });
  } catch (e) {
    throw new Failure(0, { message: "the server cannot be reached" });
  }
  let parsed = null;
  try {
    parsed = await response.json();
  } catch (e) {
    parsed = null;
  }
  if (!response.ok) throw new Failure(response.status, parsed);
  return parsed;
}

/** An admin API call with the operator's token; a 401 ends the session. */
async function admin(name, body) {
  try {
    return await post(`/api/v1/admin/${name}`, body, app.token);
  } catch (e) {
    if (e.status === 401 && app.token) {
      signOut("Your session has ended (the token expired, was revoked or the account disabled). Sign in again.");
    }
    throw e;
  }
}

function showError(e) {
  if (!app.banner) return;
  const text = e instanceof Error ? e.message : String(e);
  replace(app.banner, h("span", {}, text),
    h("button", { type: "button", class: "link", "aria-label": "Dismiss the message", onclick: clearError }, "Dismiss"));
  app.banner.hidden = false;
}

function clearError() {
  if (!app.banner) return;
  app.banner.hidden = true;
  app.banner.replaceChildren();
}

function notice(text) {
  const toast = h("div", { class: "toast", role: "status", testid: "notice" }, text);
  document.body.append(toast);
  setTimeout(() => toast.remove(), 4000);
}

function stopTimers() {
  for (const t of app.timers) clearInterval(t);
  app.timers = [];
}

/** Runs `job` now and every `ms`, never two at once, until the view changes. */
function every(ms, job) {
  let running = false;
  const tick = async () => {
    if (running || document.hidden) return;
    running = true;
    try {
      await job();
    } catch (e) {
      if (e.status !== 401) showError(e);
    } finally {
      running = false;
    }
  };
  tick();
  app.timers.push(setInterval(tick, ms));
}

// ---- the confirm dialog ----------------------------------------------------------------

/**
 * Asks before an action: a modal with `body` (fields, text) and Cancel / `confirmLabel`.
 * Resolves true when confirmed (and `check`, if given, returns no complaint).
 */
function confirmAction(title, body, confirmLabel, check) {
  return new Promise((resolve) => {
    const complaint = h("p", { class: "complaint", role: "alert", hidden: true });
    const close = (ok) => {
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    const confirm = h("button", { type: "button", class: "danger", testid: "confirm" }, confirmLabel);
    confirm.addEventListener("click", () => {
      const problem = check ? check() : null;
      if (problem) {
        complaint.textContent = problem;
        complaint.hidden = false;
        return;
      }
      close(true);
    });
    const dialog = h("dialog", { class: "dialog", "aria-label": title },
      h("h2", {}, title),
      body,
      complaint,
      h("div", { class: "actions" },
        h("button", { type: "button", testid: "cancel", onclick: () => close(false) }, "Cancel"),
        confirm));
    dialog.addEventListener("cancel", (e) => {
      e.preventDefault();
      close(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    const first = dialog.querySelector("input, select, textarea");
    (first || confirm).focus();
  });
}

// ---- sign-in ---------------------------------------------------------------------------

function signOut(message, endSession) {
  stopTimers();
  // A user's session ends on the server too (a copy of the token dies with it); a key lives
  // until it is revoked.
  if (endSession && app.token && app.me && app.me.actor.kind === "user") {
    fetch("/api/v1/live/logout", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${app.token}` },
      body: "{}",
      keepalive: true,
      credentials: "omit",
    }).catch(() => {});
  }
  app.token = null;
  app.me = null;
  sessionStorage.removeItem(TOKEN_KEY);
  renderSignIn(message);
}

async function enter(token) {
  let me;
  try {
    me = await post("/api/v1/admin/whoami", {}, token);
  } catch (e) {
    if (e.status === 403) {
      throw new Failure(403, {
        message: "This account is not an operator: it has no admin, moderator or auditor role. Ask an admin to give it one.",
      });
    }
    if (e.status === 401) throw new Failure(401, { message: "That token or key is not valid (any more)." });
    throw e;
  }
  if (!me || !Array.isArray(me.scopes) || me.scopes.length === 0) {
    throw new Failure(403, { message: "This account is not an operator: it has no role. Ask an admin to give it one." });
  }
  app.token = token;
  app.me = me;
  sessionStorage.setItem(TOKEN_KEY, token);
  renderShell();
  route();
}

function renderSignIn(message) {
  stopTimers();
  const username = h("input", { testid: "login-username", name: "username", autocomplete: "username", maxlength: 32 });
  const password = h("input", { testid: "login-password", name: "password", type: "password", autocomplete: "current-password" });
  const key = h("input", { testid: "login-key", name: "key", type: "password", autocomplete: "off", spellcheck: "false", placeholder: "lrk_…" });
  const banner = h("div", { class: "banner", role: "alert", testid: "error-banner", hidden: !message }, message || "");
  const submit = h("button", { type: "submit", class: "primary", testid: "login-submit" }, "Sign in");
  const form = h("form", { class: "card signin", "aria-label": "Sign in", novalidate: true },
    h("h1", {}, "liveroom console"),
    h("p", { class: "muted" }, "Sign in with an operator account, or with an API key."),
    banner,
    field("Username", username),
    field("Password", password),
    h("div", { class: "or" }, h("span", {}, "or")),
    field("API key", key, "An API key signs in as itself, with its own scopes."),
    submit);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    banner.hidden = true;
    submit.disabled = true;
    try {
      const apiKey = key.value.trim();
      if (apiKey) {
        await enter(apiKey);
      } else {
        if (!username.value.trim() || !password.value) {
          throw new Failure(400, { message: "Give a username and password, or an API key." });
        }
        const login = await post("/api/v1/live/login", { username: username.value.trim(), password: password.value });
        password.value = "";
        await enter(login.token);
      }
    } catch (err) {
      banner.textContent = err.message;
      banner.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  replace(app.root, h("main", { class: "signin-page" }, form));
  app.banner = null;
  (username).focus();
}

// ---- the shell -------------------------------------------------------------------------

const VIEWS = [
  ["rooms", "Rooms", "rooms:read"],
  ["users", "Users", "users:read"],
  ["audit", "Audit", "audit:read"],
  ["keys", "Keys", "admin"],
];

function renderShell() {
  const me = app.me;
  const who = me.actor.kind === "key" ? `key ${me.actor.id}` : me.actor.id;
  const roles = me.roles && me.roles.length ? me.roles.join(", ") : me.scopes.join(" ");
  const nav = h("nav", { "aria-label": "Views" },
    VIEWS.filter(([, , scope]) => may(scope)).map(([id, label]) =>
      h("a", { href: `#/${id}`, "data-view": id, testid: `nav-${id}` }, label)));
  app.banner = h("div", { class: "banner", role: "alert", testid: "error-banner", hidden: true });
  app.main = h("main", { id: "view" });
  replace(app.root,
    h("header", { class: "top" },
      h("a", { class: "brand", href: "#/rooms" }, h("img", { src: "/console/favicon.svg", alt: "", width: 22, height: 22 }), "liveroom"),
      nav,
      h("div", { class: "me" },
        h("span", { testid: "whoami", title: me.scopes.join(" ") }, h("strong", {}, who), " · ", roles),
        h("button", { type: "button", class: "link", testid: "sign-out", onclick: () => signOut("Signed out.", true) }, "Sign out"))),
    app.banner,
    app.main);
}

function route() {
  if (!app.me) return;
  stopTimers();
  clearError();
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  const view = parts[0] || "rooms";
  for (const a of app.root.querySelectorAll("nav a")) {
    a.toggleAttribute("aria-current", a.dataset.view === view || (view === "room" && a.dataset.view === "rooms"));
  }
  const allowed = Object.fromEntries(VIEWS.map(([id, , scope]) => [id, may(scope)]));
  allowed.room = may("rooms:read");
  if (!allowed[view]) {
    const first = VIEWS.find(([, , scope]) => may(scope));
    replace(app.main, h("section", { class: "card" }, h("h1", {}, "Nothing to show"),
      h("p", {}, first ? "This view needs a scope this account does not have." : "This account has no scope that shows a view.")));
    return;
  }
  window.scrollTo(0, 0);
  if (view === "rooms") return viewRooms();
  if (view === "room") return viewRoom(safeDecode(parts.slice(1).join("/")));
  if (view === "users") return viewUsers();
  if (view === "audit") return viewAudit();
  if (view === "keys") return viewKeys();
}

// ---- overview and rooms ----------------------------------------------------------------

function viewRooms() {
  const stats = h("section", { class: "stats", testid: "stats", "aria-label": "Overview" });
  const filters = { status: "-1", anchor: "", page: 1 };
  const status = h("select", { testid: "rooms-status", name: "status" },
    [["-1", "Every status"], ["1", "Live"], ["0", "Prepared or paused"], ["2", "Ended"]]
      .map(([v, label]) => h("option", { value: v }, label)));
  const anchor = h("input", { testid: "rooms-anchor", name: "anchor", placeholder: "any anchor", maxlength: 32, spellcheck: "false" });
  const prev = h("button", { type: "button", testid: "rooms-prev" }, "← Newer");
  const next = h("button", { type: "button", testid: "rooms-next" }, "Older →");
  const pageLabel = h("span", { class: "muted" });
  const list = h("div", { class: "rooms" });
  const updated = h("span", { class: "muted small", "aria-live": "off" });

  const load = async () => {
    const [s, rooms] = await Promise.all([
      admin("stats"),
      admin("rooms", Object.assign(
        { page_num: filters.page, page_size: PAGE_SIZE, status: Number(filters.status) },
        filters.anchor ? { anchor_id: filters.anchor } : {},
      )),
    ]);
    renderStats(stats, s);
    renderRooms(list, rooms.rooms || []);
    prev.disabled = filters.page <= 1;
    next.disabled = (rooms.rooms || []).length < PAGE_SIZE || filters.page >= 101;
    pageLabel.textContent = `Page ${filters.page}`;
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  };
  const reload = () => {
    stopTimers();
    every(ROOMS_EVERY_MS, load);
  };
  status.addEventListener("change", () => { filters.status = status.value; filters.page = 1; reload(); });
  let typing;
  anchor.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      const v = anchor.value.trim();
      if (v && !/^[A-Za-z0-9_-]{1,32}$/.test(v)) {
        anchor.setCustomValidity("An anchor id is 1 to 32 letters, digits, _ or -.");
        anchor.reportValidity();
        return;
      }
      anchor.setCustomValidity("");
      filters.anchor = v;
      filters.page = 1;
      reload();
    }, 300);
  });
  prev.addEventListener("click", () => { filters.page = Math.max(1, filters.page - 1); reload(); });
  next.addEventListener("click", () => { filters.page += 1; reload(); });

  replace(app.main,
    h("h1", { class: "sr-only" }, "Rooms"),
    stats,
    h("section", { class: "card" },
      h("div", { class: "toolbar" },
        h("h2", {}, "Rooms"),
        field("Status", status),
        field("Anchor", anchor),
        h("div", { class: "pager" }, prev, pageLabel, next),
        updated),
      list));
  reload();
}

function renderStats(el, s) {
  const tile = (label, value, testid) =>
    h("div", { class: "tile", testid }, h("span", { class: "tile-value" }, num(value)), h("span", { class: "tile-label" }, label));
  replace(el,
    tile("live", s.rooms_live, "stats-live"),
    tile("paused", s.rooms_paused, "stats-paused"),
    tile("prepared", s.rooms_prepared, "stats-prepared"),
    tile("online", s.online_total, "stats-online"),
    h("p", { class: "muted small stats-at" }, s.at ? `Counted ${when(s.at)}` : "Not counted yet (the sweeper counts on its next run)."));
}

function renderRooms(el, rooms) {
  const rows = rooms.map((room) => {
    const m = metricsOf(room);
    const st = roomStatus(room);
    const open = () => { location.hash = `#/room/${encodeURIComponent(room.id)}`; };
    return h("tr", { testid: "room-row", "data-room-id": room.id, class: "clickable", onclick: open },
      h("td", { class: "title" }, h("a", { href: `#/room/${encodeURIComponent(room.id)}` }, room.title || "(untitled)")),
      h("td", {}, room.anchor_id, room.anchor_nick && room.anchor_nick !== room.anchor_id ? h("span", { class: "muted" }, ` (${room.anchor_nick})`) : null),
      h("td", {}, h("span", { class: `badge ${st}`, testid: "room-row-status" }, st)),
      h("td", { class: "num" }, num(m.online_count)),
      h("td", { class: "num" }, num(m.like_count)),
      h("td", { class: "num" }, `${num(m.pv)} / ${num(m.uv)}`),
      timeCell(room.started_at));
  });
  replace(el, table("rooms-table", ["Title", "Anchor", "Status", "Online", "Likes", "PV / UV", "Started"], rows, "No rooms match."));
}

// ---- one room --------------------------------------------------------------------------

function viewRoom(id) {
  const head = h("div", { class: "room-head" });
  const details = h("dl", { class: "details" });
  const chart = h("div", { class: "chart-box" });
  const members = h("div");
  const cohosts = h("div");
  const bans = h("div");
  const audit = h("div");
  const stopReason = h("input", { testid: "stop-reason", name: "stop-reason", maxlength: 200, placeholder: "e.g. prohibited content" });
  const stopButton = h("button", { type: "button", class: "danger", testid: "stop-room" }, "Stop the room");
  const writer = may("rooms:write");
  let room = null;
  let muted = new Map();

  // A crowd of many pages is walked when the room opens, after an action and on request; the
  // refresh every few seconds walks it again only while it is a few pages.
  let pagesLastWalk = 0;
  let walkNext = true;
  let kept = { members: [], truncated: false, at: null };

  const load = async () => {
    // Every page of members: the first answer has the room, the rest only add members.
    const first = await admin("room", { id });
    const walk = walkNext || pagesLastWalk <= MEMBER_PAGES_REFRESHED;
    walkNext = false;
    if (walk) {
      const all = [...(first.members || [])];
      let token = first.members_next_token;
      let pages = 1;
      for (; token && pages < MEMBER_PAGES_MAX; pages += 1) {
        const more = await admin("room", { id, members_next_token: token });
        all.push(...(more.members || []));
        token = more.members_next_token;
      }
      pagesLastWalk = pages;
      kept = { members: all, truncated: Boolean(token), at: pages > MEMBER_PAGES_REFRESHED ? new Date() : null };
    }
    let points = [];
    try {
      points = (await admin("roomSeries", { id, limit: 120 })).points || [];
    } catch (e) {
      if (e.status === 401) throw e;
    }
    room = first.room;
    renderRoomHead(head, room);
    renderRoomDetails(details, room);
    renderChart(chart, points);
    renderMembers(members, kept, room, writer, muted, actOn, () => { walkNext = true; refresh(); });
    renderCohosts(cohosts, (first.meeting_info && first.meeting_info.members) || []);
    renderBans(bans, first.bans || []);
    if (may("audit:read")) renderAuditTable(audit, first.audit || [], "Latest audit entries of this room.");
    const ended = room.status === 2;
    stopButton.disabled = !writer || ended;
    stopReason.disabled = !writer || ended;
  };

  const refresh = async () => {
    try {
      await load();
    } catch (e) {
      if (e.status !== 401) showError(e);
    }
  };

  async function actOn(member, action) {
    if (action === "kick") {
      const reason = h("input", { testid: "kick-reason", name: "kick-reason", maxlength: 200, placeholder: "why" });
      const ban = h("select", { testid: "kick-ban", name: "ban" }, BANS.map(([v, label]) => h("option", { value: v }, label)));
      ban.value = "3600";
      const ok = await confirmAction(`Kick ${member.user_id}?`,
        h("div", {}, h("p", {}, "They leave the room now and cannot join it again until the ban ends."),
          field("Reason", reason), field("Banned for", ban)),
        "Kick", () => (reason.value.trim() ? null : "Give a reason: it goes in the audit log."));
      if (!ok) return;
      try {
        const r = await admin("kick", { id, user_id: member.user_id, ban_seconds: Number(ban.value), reason: reason.value.trim() });
        notice(`${r.user_id} was kicked, banned until ${when(r.banned_until)}.`);
      } catch (e) {
        showError(e);
      }
    } else {
      const mute = action === "mute";
      const reason = h("input", { testid: "mute-reason", name: "mute-reason", maxlength: 200, placeholder: "optional" });
      const ok = await confirmAction(`${mute ? "Mute" : "Unmute"} ${member.user_id}?`,
        h("div", {}, field("Reason", reason)), mute ? "Mute" : "Unmute");
      if (!ok) return;
      try {
        const body = { id, user_id: member.user_id, mute };
        if (reason.value.trim()) body.reason = reason.value.trim();
        const r = await admin("mute", body);
        muted.set(r.user_id, r.mute);
        notice(`${r.user_id} is ${r.mute ? "muted" : "no longer muted"}.`);
      } catch (e) {
        showError(e);
      }
    }
    walkNext = true;
    await refresh();
  }

  stopButton.addEventListener("click", async () => {
    const reason = stopReason.value.trim();
    if (!reason) {
      stopReason.setCustomValidity("Give a reason: the anchor and the audit log see it.");
      stopReason.reportValidity();
      return;
    }
    stopReason.setCustomValidity("");
    const ok = await confirmAction(`Stop “${room ? room.title : id}”?`,
      h("div", {}, h("p", {}, "The room ends for everyone in it, now. This cannot be undone."),
        h("p", {}, "Reason: ", h("strong", {}, reason))),
      "Stop the room");
    if (!ok) return;
    try {
      await admin("stopRoom", { id, reason });
      stopReason.value = "";
      notice("The room was stopped.");
    } catch (e) {
      showError(e);
    }
    walkNext = true;
    await refresh();
  });

  replace(app.main,
    h("p", {}, h("a", { href: "#/rooms", class: "back" }, "← All rooms")),
    head,
    h("div", { class: "grid" },
      h("section", { class: "card" }, h("h2", {}, "Details"), details),
      h("section", { class: "card" }, h("h2", {}, "Stop the room"),
        writer ? null : h("p", { class: "muted" }, "Stopping a room needs rooms:write."),
        field("Reason", stopReason, "Shown to the anchor as the room's stop reason."),
        h("div", { class: "actions" }, stopButton))),
    h("section", { class: "card" }, h("h2", {}, "Online and likes"), chart),
    h("section", { class: "card" }, h("h2", {}, "Members online"), members),
    h("div", { class: "grid" },
      h("section", { class: "card" }, h("h2", {}, "Co-hosts"), cohosts),
      h("section", { class: "card" }, h("h2", {}, "Bans"), bans)),
    may("audit:read") ? h("section", { class: "card" }, h("h2", {}, "Audit"), audit) : null);
  every(ROOM_EVERY_MS, load);
}

function renderRoomHead(el, room) {
  const st = roomStatus(room);
  replace(el,
    h("h1", { testid: "room-title" }, room.title || "(untitled)"),
    h("span", { class: `badge big ${st}`, testid: "room-status" }, st),
    h("code", { class: "muted small", testid: "room-id" }, room.id));
}

function renderRoomDetails(el, room) {
  const m = metricsOf(room);
  const rows = [
    ["Anchor", `${room.anchor_id}${room.anchor_nick && room.anchor_nick !== room.anchor_id ? ` (${room.anchor_nick})` : ""}`],
    ["Online", num(m.online_count)],
    ["Likes", num(m.like_count)],
    ["PV / UV", `${num(m.pv)} / ${num(m.uv)}`],
    ["Created", when(room.created_at)],
    ["Started", when(room.started_at) || "—"],
    ["Ended", when(room.stopped_at) || "—"],
    ["Mode", room.mode === 1 ? "co-hosting" : "single anchor"],
    ["Category", room.category || "—"],
    ["Notice", room.notice || "—"],
  ];
  if (room.stop_reason) rows.push(["Stop reason", room.stop_reason, "room-stop-reason"]);
  if (room.stopped_by) rows.push(["Stopped by", actorText(room.stopped_by), "room-stopped-by"]);
  replace(el, rows.map(([k, v, testid]) => [h("dt", {}, k), h("dd", testid ? { testid } : {}, v)]));
}

function renderChart(el, points) {
  const W = 720, H = 220, L = 44, R = 44, T = 14, B = 28;
  const box = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", testid: "online-chart", "data-points": points.length });
  const title = points.length ? `Online and likes, ${points.length} samples` : "No samples yet";
  box.append(svg("title", {}, title));
  if (!points.length) {
    box.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "axis" }, "no samples yet"));
    replace(el, box, h("p", { class: "muted" }, "The sweeper takes a sample each run while the room is open."));
    return;
  }
  const times = points.map((p) => new Date(p.at).getTime());
  const t0 = Math.min(...times), t1 = Math.max(...times);
  const x = (t) => (t1 === t0 ? L + (W - L - R) / 2 : L + ((t - t0) / (t1 - t0)) * (W - L - R));
  const maxOnline = Math.max(1, ...points.map((p) => p.online_count));
  const maxLikes = Math.max(1, ...points.map((p) => p.like_count));
  const y = (v, max) => T + (1 - v / max) * (H - T - B);
  for (const f of [0, 0.5, 1]) {
    box.append(svg("line", { x1: L, x2: W - R, y1: T + f * (H - T - B), y2: T + f * (H - T - B), class: "grid" }));
  }
  box.append(
    svg("text", { x: L - 6, y: T + 4, "text-anchor": "end", class: "axis online" }, String(maxOnline)),
    svg("text", { x: L - 6, y: H - B, "text-anchor": "end", class: "axis online" }, "0"),
    svg("text", { x: W - R + 6, y: T + 4, class: "axis likes" }, String(maxLikes)),
    svg("text", { x: W - R + 6, y: H - B, class: "axis likes" }, "0"),
    svg("text", { x: L, y: H - 8, class: "axis" }, new Date(t0).toLocaleTimeString()),
    svg("text", { x: W - R, y: H - 8, "text-anchor": "end", class: "axis" }, new Date(t1).toLocaleTimeString()));
  for (const [key, max, cls] of [["like_count", maxLikes, "likes"], ["online_count", maxOnline, "online"]]) {
    const coords = points.map((p, i) => `${x(times[i]).toFixed(1)},${y(p[key], max).toFixed(1)}`);
    box.append(svg("polyline", { points: coords.join(" "), class: `line ${cls}` }));
    points.forEach((p, i) => {
      box.append(svg("circle", { cx: x(times[i]).toFixed(1), cy: y(p[key], max).toFixed(1), r: 3, class: `point ${cls}`, "data-series": cls },
        svg("title", {}, `${when(p.at)}: ${p[key]} ${cls === "online" ? "online" : "likes"}`)));
    });
  }
  replace(el, box,
    h("p", { class: "legend" }, h("span", { class: "key online" }, "online (left axis)"), " ", h("span", { class: "key likes" }, "likes (right axis)")));
}

function renderMembers(el, walked, room, writer, muted, actOn, reload) {
  const { members, truncated, at } = walked;
  const ended = room.status === 2;
  const rows = members.map((m) => {
    const state = muted.get(m.user_id);
    const disabled = !writer || ended;
    return h("tr", { testid: "member-row", "data-user-id": m.user_id },
      h("td", {}, m.user_id, state ? h("span", { class: "badge muted-badge" }, "muted") : null),
      timeCell(m.joined_at),
      timeCell(m.last_seen),
      h("td", { class: "row-actions" },
        h("button", { type: "button", testid: "kick", disabled, onclick: () => actOn(m, "kick") }, "Kick"),
        h("button", { type: "button", testid: "mute", disabled, onclick: () => actOn(m, "mute") }, "Mute"),
        h("button", { type: "button", testid: "unmute", disabled, onclick: () => actOn(m, "unmute") }, "Unmute")));
  });
  const counted = `${members.length.toLocaleString()} online${truncated ? ` (the first ${MEMBER_PAGES_MAX} pages)` : ""}`;
  replace(el,
    h("p", { class: "muted small" }, at ? `${counted}, as of ${at.toLocaleTimeString()} ` : counted,
      at ? h("button", { type: "button", class: "link", testid: "reload-members", onclick: reload }, "Reload the members") : null),
    h("div", { testid: "members-list" }, table("members-table", ["Member", "Joined", "Last seen", "Actions"], rows, "Nobody is online.")));
}

function renderCohosts(el, cohosts) {
  const rows = cohosts.map((c) => h("tr", { testid: "cohost-row", "data-user-id": c.user_id },
    h("td", {}, c.user_id), h("td", {}, c.user_nick || "—"),
    h("td", {}, c.camera_opened ? "on" : "off"), h("td", {}, c.mic_opened ? "on" : "off")));
  replace(el, table("cohosts-table", ["User", "Nick", "Camera", "Mic"], rows, "No co-hosts."));
}

function renderBans(el, bans) {
  const rows = bans.map((b) => h("tr", { testid: "ban-row", "data-user-id": b.user_id }, h("td", {}, b.user_id), timeCell(b.banned_until)));
  replace(el, table("bans-table", ["User", "Banned until"], rows, "Nobody is banned."));
}

// ---- audit -----------------------------------------------------------------------------

function auditRow(e, withRoom) {
  const details = e.details && Object.keys(e.details).length ? JSON.stringify(e.details) : "";
  const target = e.target ? `${e.target.kind}:${e.target.id}` : "";
  return h("tr", { testid: "audit-row", "data-action": e.action, "data-id": e.id },
    timeCell(e.at),
    h("td", { class: "nowrap" }, actorText(e.actor)),
    h("td", { class: "nowrap" }, h("code", {}, e.action)),
    h("td", {}, target),
    withRoom ? h("td", {}, e.room_id ? h("a", { href: `#/room/${encodeURIComponent(e.room_id)}` }, e.room_id) : "—") : null,
    h("td", { testid: "audit-reason" }, e.reason || "—"),
    h("td", { class: "details-cell" }, details ? h("code", { title: details }, details) : "—"));
}

function renderAuditTable(el, entries, caption, withRoom) {
  const headers = withRoom
    ? ["When", "Actor", "Action", "Target", "Room", "Reason", "Details"]
    : ["When", "Actor", "Action", "Target", "Reason", "Details"];
  replace(el,
    caption ? h("p", { class: "muted small" }, caption) : null,
    table("audit-table", headers, entries.map((e) => auditRow(e, withRoom)), "No entries."));
}

function csvCell(value) {
  let text = value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
  // A spreadsheet must not run what a user typed as a formula: not at the start of a cell, nor
  // after a ';' (the list separator of many locales), leading blanks or not.
  text = text.replace(/(^|;)(\s*)(?=[=+\-@\t\r＝＋－＠])/g, "$1$2'");
  // Every cell quoted: a ';' or ',' inside one never splits it.
  return `"${text.replace(/"/g, '""')}"`;
}

function toCsv(entries) {
  const head = ["id", "at", "actor_kind", "actor_id", "source", "ip", "request_id", "action", "target", "room_id", "reason", "details"];
  const lines = [head.join(",")];
  for (const e of entries) {
    lines.push([e.id, e.at, e.actor && e.actor.kind, e.actor && e.actor.id, e.source, e.ip, e.request_id, e.action,
      e.target, e.room_id, e.reason, e.details].map(csvCell).join(","));
  }
  return lines.join("\r\n") + "\r\n";
}

function viewAudit() {
  const room = h("input", { testid: "audit-room", name: "room", placeholder: "room id", spellcheck: "false" });
  const actor = h("input", { testid: "audit-actor", name: "actor", placeholder: "user id, user:<id> or key:<id>", spellcheck: "false" });
  const action = h("select", { testid: "audit-action", name: "action" },
    h("option", { value: "" }, "Every action"), ACTIONS.map((a) => h("option", { value: a }, a)));
  const since = h("input", { testid: "audit-since", name: "since", type: "datetime-local" });
  const until = h("input", { testid: "audit-until", name: "until", type: "datetime-local" });
  const apply = h("button", { type: "submit", class: "primary", testid: "audit-apply" }, "Filter");
  const newest = h("button", { type: "button", testid: "audit-first" }, "Newest");
  const older = h("button", { type: "button", testid: "audit-next" }, "Older →");
  const csv = h("button", { type: "button", testid: "audit-csv" }, "Download CSV");
  const list = h("div");
  let tokens = [];
  let next = null;

  const query = () => {
    const q = { limit: 50 };
    if (room.value.trim()) q.room_id = room.value.trim();
    if (actor.value.trim()) q.actor_id = actor.value.trim();
    if (action.value) q.action = action.value;
    if (since.value) q.since = new Date(since.value).toISOString();
    if (until.value) q.until = new Date(until.value).toISOString();
    return q;
  };
  const load = async (token) => {
    clearError();
    try {
      const r = await admin("audit", Object.assign(query(), token ? { next_token: token } : {}));
      renderAuditTable(list, r.entries || [], null, true);
      next = r.next_token || null;
      older.disabled = !next;
      newest.disabled = !token;
    } catch (e) {
      showError(e);
    }
  };
  const form = h("form", { class: "toolbar wrap", "aria-label": "Filter the audit log" },
    field("Room", room), field("Actor", actor), field("Action", action), field("Since", since), field("Until", until),
    h("div", { class: "actions" }, apply, csv));
  form.addEventListener("submit", (e) => { e.preventDefault(); tokens = []; load(null); });
  newest.addEventListener("click", () => { tokens = []; load(null); });
  older.addEventListener("click", () => { if (next) { tokens.push(next); load(next); } });
  csv.addEventListener("click", async () => {
    csv.disabled = true;
    try {
      const all = [];
      let token = null;
      for (let i = 0; i < 100; i += 1) {
        const r = await admin("audit", Object.assign(query(), { limit: 100 }, token ? { next_token: token } : {}));
        all.push(...(r.entries || []));
        token = r.next_token;
        if (!token) break;
      }
      const blob = new Blob([toCsv(all)], { type: "text/csv;charset=utf-8" });
      const url = URL.createObjectURL(blob);
      const a = h("a", { href: url, download: `liveroom-audit-${new Date().toISOString().replace(/[:.]/g, "-")}.csv`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      notice(`${all.length} entries downloaded.`);
    } catch (e) {
      showError(e);
    } finally {
      csv.disabled = false;
    }
  });
  replace(app.main,
    h("section", { class: "card" },
      h("h1", {}, "Audit log"),
      h("p", { class: "muted" }, "Every operator action, anchor kick and mute, room delete and vendor call, newest first."),
      form,
      list,
      h("div", { class: "pager" }, newest, older)));
  load(null);
}

// ---- users -----------------------------------------------------------------------------

function viewUsers() {
  const prefix = h("input", { testid: "users-search", name: "prefix", placeholder: "username starts with…", maxlength: 64, spellcheck: "false" });
  const prev = h("button", { type: "button", testid: "users-prev" }, "← Previous");
  const next = h("button", { type: "button", testid: "users-next" }, "Next →");
  const list = h("div");
  let page = 1;
  const writer = may("users:write");
  const isAdmin = may("admin");

  const load = async (keepError) => {
    if (!keepError) clearError();
    try {
      const body = { page_num: page, page_size: PAGE_SIZE };
      if (prefix.value.trim()) body.prefix = prefix.value.trim();
      const r = await admin("users", body);
      const users = r.users || [];
      renderUsers(list, users);
      prev.disabled = page <= 1;
      next.disabled = users.length < PAGE_SIZE || page >= 101;
    } catch (e) {
      showError(e);
    }
  };

  async function act(user, what) {
    try {
      if (what === "disable") {
        const reason = h("input", { testid: "disable-reason", name: "reason", maxlength: 200 });
        const ok = await confirmAction(`Disable ${user.id}?`,
          h("div", {}, h("p", {}, "Their sessions end at once, their open rooms stop, and they cannot sign in until enabled."),
            field("Reason", reason)),
          "Disable", () => (reason.value.trim() ? null : "Give a reason: it goes in the audit log."));
        if (!ok) return;
        await admin("disableUser", { user_id: user.id, reason: reason.value.trim() });
        notice(`${user.id} is disabled.`);
      } else if (what === "enable") {
        const reason = h("input", { testid: "enable-reason", name: "reason", maxlength: 200, placeholder: "optional" });
        const ok = await confirmAction(`Enable ${user.id}?`, h("div", {}, field("Reason", reason)), "Enable");
        if (!ok) return;
        const body = { user_id: user.id };
        if (reason.value.trim()) body.reason = reason.value.trim();
        await admin("enableUser", body);
        notice(`${user.id} is enabled.`);
      } else if (what === "roles") {
        const boxes = ROLES.map((role) => h("input", { type: "checkbox", name: "role", value: role, checked: (user.roles || []).includes(role), testid: `role-${role}` }));
        const ok = await confirmAction(`Roles of ${user.id}`,
          h("fieldset", { class: "checks" }, h("legend", {}, "Roles"),
            boxes.map((box) => h("label", {}, box, " ", box.value))),
          "Save roles");
        if (!ok) return;
        await admin("setRoles", { user_id: user.id, roles: boxes.filter((b) => b.checked).map((b) => b.value) });
        notice(`Roles of ${user.id} saved.`);
      }
    } catch (e) {
      showError(e);
      await load(true);
      return;
    }
    clearError();
    await load(true);
  }

  function renderUsers(el, users) {
    const self = app.me.actor.kind === "user" ? app.me.actor.id : null;
    const rows = users.map((u) => h("tr", { testid: "user-row", "data-user-id": u.id },
      h("td", {}, h("strong", {}, u.id), u.nick && u.nick !== u.id ? h("span", { class: "muted" }, ` (${u.nick})`) : null),
      h("td", {}, (u.roles || []).length ? u.roles.join(", ") : "—"),
      h("td", { testid: "user-state" }, u.disabled ? h("span", { class: "badge ended" }, "disabled") : h("span", { class: "badge live" }, "active"),
        u.disabled && u.disabled_reason ? h("span", { class: "muted small" }, ` ${u.disabled_reason}`) : null),
      timeCell(u.created_at),
      h("td", { class: "row-actions" },
        u.disabled
          ? h("button", { type: "button", testid: "enable-user", disabled: !writer, onclick: () => act(u, "enable") }, "Enable")
          : h("button", {
            type: "button", class: "danger-outline", testid: "disable-user",
            // Not one's own account; an admin's only by an admin (the server decides the rest).
            disabled: !writer || u.id === self || ((u.roles || []).includes("admin") && !isAdmin),
            title: u.id === self ? "You cannot disable your own account." : null,
            onclick: () => act(u, "disable"),
          }, "Disable"),
        isAdmin ? h("button", { type: "button", testid: "set-roles", disabled: u.id === self, onclick: () => act(u, "roles") }, "Roles…") : null)));
    replace(el, table("users-table", ["User", "Roles", "State", "Registered", "Actions"], rows, "No users match."));
  }

  let typing;
  prefix.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => { page = 1; load(); }, 300);
  });
  prev.addEventListener("click", () => { page = Math.max(1, page - 1); load(); });
  next.addEventListener("click", () => { page += 1; load(); });
  replace(app.main,
    h("section", { class: "card" },
      h("h1", {}, "Users"),
      writer ? null : h("p", { class: "muted" }, "Disabling and enabling needs users:write."),
      h("div", { class: "toolbar" }, field("Search", prefix)),
      list,
      h("div", { class: "pager" }, prev, next)));
  load();
}

// ---- keys ------------------------------------------------------------------------------

function viewKeys() {
  const name = h("input", { testid: "key-name", name: "name", maxlength: 64, placeholder: "e.g. review robot" });
  const boxes = SCOPES.map((scope) => h("input", { type: "checkbox", name: "scope", value: scope, testid: `scope-${scope.replace(":", "-")}` }));
  const create = h("button", { type: "submit", class: "primary", testid: "create-key" }, "Create key");
  const created = h("div", { "aria-live": "polite" });
  const list = h("div");

  const load = async () => {
    try {
      const r = await admin("keys");
      renderKeys(list, r.keys || []);
    } catch (e) {
      showError(e);
    }
  };

  const form = h("form", { class: "create-key", "aria-label": "Create an API key" },
    field("Name", name),
    h("fieldset", { class: "checks" }, h("legend", {}, "Scopes"), boxes.map((b) => h("label", {}, b, " ", b.value))),
    h("div", { class: "actions" }, create));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearError();
    const scopes = boxes.filter((b) => b.checked).map((b) => b.value);
    if (!name.value.trim() || !scopes.length) {
      showError("Give the key a name and at least one scope.");
      return;
    }
    create.disabled = true;
    try {
      const key = await admin("createKey", { name: name.value.trim(), scopes });
      name.value = "";
      boxes.forEach((b) => { b.checked = false; });
      const secret = h("code", { class: "secret", testid: "created-secret" }, key.secret);
      const copy = h("button", { type: "button", testid: "copy-secret" }, "Copy");
      copy.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(key.secret);
          copy.textContent = "Copied";
        } catch (err) {
          const range = document.createRange();
          range.selectNodeContents(secret);
          const sel = window.getSelection();
          sel.removeAllRanges();
          sel.addRange(range);
          copy.textContent = "Selected: press Ctrl+C";
        }
      });
      replace(created, h("div", { class: "created" },
        h("p", {}, h("strong", {}, `Key “${key.name}” created. `), "Copy its secret now: it is shown only this once."),
        h("div", { class: "secret-row" }, secret, copy),
        h("button", { type: "button", class: "link", onclick: () => created.replaceChildren() }, "I have kept it")));
    } catch (err) {
      showError(err);
    } finally {
      create.disabled = false;
    }
    await load();
  });

  function renderKeys(el, keys) {
    const rows = keys.map((k) => h("tr", { testid: "key-row", "data-key-id": k.key_id },
      h("td", {}, h("code", {}, k.key_id)),
      h("td", {}, k.name),
      h("td", {}, (k.scopes || []).join(" ")),
      timeCell(k.created_at),
      h("td", {}, k.created_by || "—"),
      timeCell(k.last_used_at),
      h("td", {}, k.revoked_at ? h("span", { class: "badge ended" }, `revoked ${when(k.revoked_at)}`) : h("span", { class: "badge live" }, "active")),
      h("td", { class: "row-actions" }, k.revoked_at ? null : h("button", {
        type: "button", class: "danger-outline", testid: "revoke-key",
        onclick: async () => {
          const ok = await confirmAction(`Revoke “${k.name}”?`, h("p", {}, "Every request with this key fails from now on."), "Revoke");
          if (!ok) return;
          try {
            await admin("revokeKey", { key_id: k.key_id });
            notice(`Key ${k.key_id} revoked.`);
          } catch (e) {
            showError(e);
          }
          await load();
        },
      }, "Revoke"))));
    replace(el, table("keys-table", ["Key", "Name", "Scopes", "Created", "By", "Last used", "State", "Actions"], rows, "No keys yet."));
  }

  replace(app.main,
    h("section", { class: "card" }, h("h1", {}, "API keys"),
      h("p", { class: "muted" }, "A key acts as itself with the scopes it is given, until revoked. Its secret is shown once."),
      form, created),
    h("section", { class: "card" }, h("h2", {}, "Keys"), list));
  load();
}

// ---- start -----------------------------------------------------------------------------

async function start() {
  app.root = document.getElementById("app");
  window.addEventListener("hashchange", route);
  const kept = sessionStorage.getItem(TOKEN_KEY);
  if (!kept) return renderSignIn(null);
  try {
    await enter(kept);
  } catch (e) {
    sessionStorage.removeItem(TOKEN_KEY);
    renderSignIn(e.status === 0 ? e.message : null);
  }
}

start();
