"""The operator console (`/console`) as operators use it, in a real browser: each scenario sets a
scene up through the HTTP API and asserts what the page shows."""

import csv
import io
import json
import time
import uuid

from playwright.sync_api import expect

from harness import ADMIN, PASSWORD, PHONE, scenario

XSS = "<img src=x onerror=alert(1)>"


def uid(prefix):
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def live_room(ctx, title=None):
    """A new anchor and its room, started; returns (anchor token, room id)."""
    anchor = ctx.api.user(uid("anchor"))
    room = ctx.api.call("/api/v1/live/create", {"title": title or uid("room ")}, anchor)
    ctx.api.call("/api/v1/live/start", {"id": room["id"]}, anchor)
    return anchor, room["id"]


def signed_in(ctx, viewport=None, username=ADMIN):
    page = ctx.page(viewport) if viewport else ctx.page()
    ctx.sign_in(page, username)
    page.get_by_test_id("whoami").wait_for()
    return page


def open_room(page, room_id):
    page.locator(f'[data-testid="room-row"][data-room-id="{room_id}"]').click()
    page.get_by_test_id("room-status").wait_for()


def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@scenario
def an_admin_signs_in_and_sees_who_and_the_overview(ctx):
    page = signed_in(ctx)
    who = page.get_by_test_id("whoami").inner_text()
    assert ADMIN in who and "admin" in who, who
    stats = page.get_by_test_id("stats")
    stats.get_by_test_id("stats-live").wait_for()
    for tile in ("stats-live", "stats-paused", "stats-prepared", "stats-online"):
        assert stats.get_by_test_id(tile).is_visible(), tile
    # An admin has every view, keys among them.
    for view in ("nav-rooms", "nav-users", "nav-audit", "nav-keys"):
        assert page.get_by_test_id(view).is_visible(), view
    # The token is in this tab's session storage only: no local storage, no cookie.
    storage = page.evaluate(
        "({local: localStorage.length, cookie: document.cookie,"
        " session: sessionStorage.getItem('liveroom.console.token')})"
    )
    assert storage["local"] == 0 and storage["cookie"] == "", storage
    assert storage["session"] and storage["session"].count(".") == 2, storage
    page.get_by_test_id("rooms-table").wait_for()
    ctx.shot(page, "desktop")


@scenario
def a_room_started_through_the_api_appears_live_within_five_seconds(ctx):
    page = signed_in(ctx)
    page.get_by_test_id("rooms-table").wait_for()
    _, room_id = live_room(ctx, title="Friday night live")
    started = time.monotonic()
    row = page.locator(f'[data-testid="room-row"][data-room-id="{room_id}"]')
    row.wait_for(timeout=5000)
    assert row.get_by_test_id("room-row-status").inner_text() == "live"
    assert "Friday night live" in row.inner_text()
    assert time.monotonic() - started <= 5.5
    # The status filter: an ended room is not among the live ones.
    page.get_by_test_id("rooms-status").select_option("2")
    expect(page.locator(f'[data-room-id="{room_id}"]')).to_have_count(0)


@scenario
def a_member_who_joins_appears_and_a_kick_with_a_reason_removes_it_with_an_audit_row(ctx):
    _, room_id = live_room(ctx)
    member_id = uid("viewer")
    member = ctx.api.user(member_id)
    page = signed_in(ctx)
    open_room(page, room_id)
    ctx.api.call("/api/v1/live/join", {"id": room_id}, member)
    row = page.locator(f'[data-testid="member-row"][data-user-id="{member_id}"]')
    row.wait_for(timeout=7000)
    assert page.get_by_test_id("members-list").is_visible()
    row.get_by_test_id("kick").click()
    page.get_by_test_id("kick-reason").fill("spam links <b>again</b>")
    page.get_by_test_id("confirm").click()
    row.wait_for(state="detached", timeout=7000)
    audit = page.locator('[data-testid="audit-row"][data-action="room.kick"]')
    audit.first.wait_for(timeout=7000)
    assert "spam links <b>again</b>" in audit.first.inner_text()
    assert member_id in audit.first.inner_text()
    page.locator(f'[data-testid="ban-row"][data-user-id="{member_id}"]').wait_for()
    # The server agrees: the member is banned from the room.
    err = ctx.api.call("/api/v1/live/join", {"id": room_id}, member, expect=403)
    assert err["reason"] == "RoomMemberBanned", err


@scenario
def a_stop_with_a_reason_shows_the_room_ended_with_its_reason(ctx):
    _, room_id = live_room(ctx)
    page = signed_in(ctx)
    open_room(page, room_id)
    assert page.get_by_test_id("room-status").inner_text() == "live"
    # No reason, no stop: the page asks for one and nothing is sent.
    page.get_by_test_id("stop-room").click()
    assert page.get_by_test_id("confirm").count() == 0
    page.get_by_test_id("stop-reason").fill("prohibited content")
    page.get_by_test_id("stop-room").click()
    # Cancelled once: still live.
    page.get_by_test_id("cancel").click()
    assert ctx.api.call("/api/v1/admin/room", {"id": room_id}, ctx.admin)["room"]["status"] == 1
    page.get_by_test_id("stop-room").click()
    page.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("room-status")).to_have_text("ended")
    assert page.get_by_test_id("room-stop-reason").inner_text() == "prohibited content"
    assert ADMIN in page.get_by_test_id("room-stopped-by").inner_text()
    assert page.get_by_test_id("stop-room").is_disabled()
    room = ctx.api.call("/api/v1/admin/room", {"id": room_id}, ctx.admin)["room"]
    assert room["status"] == 2 and room["stop_reason"] == "prohibited content", room


@scenario
def a_title_of_html_shows_as_text_and_runs_nothing(ctx):
    anchor = ctx.api.user(uid("anchor"))
    room = ctx.api.call("/api/v1/live/create", {"title": XSS, "notice": XSS}, anchor)
    page = signed_in(ctx)
    row = page.locator(f'[data-testid="room-row"][data-room-id="{room["id"]}"]')
    row.wait_for()
    assert XSS in row.inner_text()
    assert page.locator('[data-testid="rooms-table"] img').count() == 0
    open_room(page, room["id"])
    assert page.get_by_test_id("room-title").inner_text() == XSS
    assert page.locator("main img").count() == 0
    page.wait_for_timeout(500)
    # The harness fails the scenario had any alert opened or any script error happened.
    assert page.evaluate("typeof window.__xss") == "undefined"
    # And no string can become HTML in this page: Trusted Types refuses the assignment.
    outcome = page.evaluate(
        "() => { try { document.body.insertAdjacentHTML('beforeend', '<i>x</i>'); return 'parsed'; }"
        " catch (e) { return e.name; } }"
    )
    assert outcome == "TypeError", outcome
    ctx.problems[:] = [p for p in ctx.problems if "TrustedHTML" not in p]


@scenario
def a_plain_user_cannot_get_in(ctx):
    name = uid("plain")
    ctx.api.user(name)
    page = ctx.page()
    ctx.sign_in(page, name)
    banner = page.get_by_test_id("error-banner")
    banner.wait_for()
    assert "not an operator" in banner.inner_text(), banner.inner_text()
    assert page.get_by_test_id("whoami").count() == 0
    assert page.get_by_test_id("rooms-table").count() == 0
    assert page.evaluate("sessionStorage.length") == 0
    # A wrong password says so, and a made-up key is refused.
    page.get_by_test_id("login-password").fill("not the password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("error-banner")).to_contain_text("wrong username or password")
    page.get_by_test_id("login-key").fill("lrk_" + "a" * 16 + "_" + "b" * 43)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("error-banner")).to_contain_text("not valid")
    assert page.get_by_test_id("whoami").count() == 0


@scenario
def the_chart_has_a_point_per_sample(ctx):
    anchor, room_id = live_room(ctx)
    viewer = ctx.api.user(uid("viewer"))
    ctx.api.call("/api/v1/live/join", {"id": room_id}, viewer)
    ctx.api.call("/api/v1/live/like", {"id": room_id, "count": 3}, viewer, expect=None)
    # The sweeper samples every 5 s locally: wait for at least two samples.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        points = ctx.api.call("/api/v1/admin/roomSeries", {"id": room_id, "limit": 120}, ctx.admin)["points"]
        if len(points) >= 2:
            break
        time.sleep(0.5)
    assert len(points) >= 2, points
    page = signed_in(ctx)
    open_room(page, room_id)
    chart = page.get_by_test_id("online-chart")
    chart.wait_for()
    # The page and the API agree on the samples (read twice to step over a new one).
    for _ in range(10):
        before = len(ctx.api.call("/api/v1/admin/roomSeries", {"id": room_id, "limit": 120}, ctx.admin)["points"])
        online = page.locator('[data-testid="online-chart"] circle[data-series="online"]').count()
        likes = page.locator('[data-testid="online-chart"] circle[data-series="likes"]').count()
        drawn = int(chart.get_attribute("data-points"))
        after = len(ctx.api.call("/api/v1/admin/roomSeries", {"id": room_id, "limit": 120}, ctx.admin)["points"])
        if before == after == drawn == online == likes:
            break
        page.wait_for_timeout(1000)
    assert before == after == drawn == online == likes, (before, after, drawn, online, likes)
    assert chart.locator("polyline").count() == 2
    ctx.shot(page, "desktop-room")


@scenario
def the_phone_viewport_has_no_horizontal_scroll(ctx):
    _, room_id = live_room(ctx, title="A rather long title for a small screen " * 3)
    viewer_id = uid("viewer")
    ctx.api.call("/api/v1/live/join", {"id": room_id}, ctx.api.user(viewer_id))
    page = signed_in(ctx, PHONE)
    page.get_by_test_id("rooms-table").wait_for()
    page.locator(f'[data-room-id="{room_id}"]').wait_for()
    assert no_horizontal_scroll(page), "rooms"
    ctx.shot(page, "phone")
    open_room(page, room_id)
    page.locator(f'[data-testid="member-row"][data-user-id="{viewer_id}"]').wait_for()
    assert no_horizontal_scroll(page), "room"
    ctx.shot(page, "phone-room")
    assert unlabelled(page) == [], unlabelled(page)
    for view, testid in (("users", "users-table"), ("audit", "audit-table"), ("keys", "keys-table")):
        page.goto(f"{ctx.base}/console#/{view}")
        page.get_by_test_id(testid).wait_for()
        assert no_horizontal_scroll(page), view
        assert unlabelled(page) == [], (view, unlabelled(page))
    page.get_by_test_id("sign-out").click()
    page.get_by_test_id("login-submit").wait_for()
    assert no_horizontal_scroll(page), "sign-in"
    assert unlabelled(page) == [], ("sign-in", unlabelled(page))


def unlabelled(page):
    """The controls with no label: no <label>, no aria-label, no text of their own."""
    return page.evaluate(
        """[...document.querySelectorAll('input, select, button, textarea')].filter(el =>
             !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim()
           ).map(el => el.outerHTML)"""
    )


@scenario
def users_search_disable_and_enable_with_a_reason(ctx):
    name = uid("zed")
    ctx.api.user(name)
    page = signed_in(ctx)
    page.get_by_test_id("nav-users").click()
    page.get_by_test_id("users-search").fill(name[:7])
    row = page.locator(f'[data-testid="user-row"][data-user-id="{name}"]')
    row.wait_for()
    row.get_by_test_id("disable-user").click()
    page.get_by_test_id("disable-reason").fill("repeated abuse")
    page.get_by_test_id("confirm").click()
    expect(row.get_by_test_id("user-state")).to_contain_text("disabled")
    assert "repeated abuse" in row.get_by_test_id("user-state").inner_text()
    ctx.api.call("/api/v1/live/login", {"username": name, "password": PASSWORD}, expect=403)
    row.get_by_test_id("enable-user").click()
    page.get_by_test_id("confirm").click()
    expect(row.get_by_test_id("user-state")).to_contain_text("active")
    # Roles, as an admin may set them.
    row.get_by_test_id("set-roles").click()
    page.get_by_test_id("role-auditor").check()
    page.get_by_test_id("confirm").click()
    expect(row).to_contain_text("auditor")
    assert ctx.api.call("/api/v1/admin/whoami", {}, ctx.api.user(name))["roles"] == ["auditor"]


@scenario
def an_auditor_sees_but_cannot_act(ctx):
    name = uid("audi")
    ctx.api.user(name)
    ctx.api.call("/api/v1/admin/setRoles", {"user_id": name, "roles": ["auditor"]}, ctx.admin)
    _, room_id = live_room(ctx)
    page = signed_in(ctx, username=name)
    assert "auditor" in page.get_by_test_id("whoami").inner_text()
    assert page.get_by_test_id("nav-keys").count() == 0
    assert page.get_by_test_id("nav-audit").is_visible()
    open_room(page, room_id)
    assert page.get_by_test_id("stop-room").is_disabled()
    page.goto(f"{ctx.base}/console#/keys")
    page.get_by_text("needs a scope").wait_for()
    assert page.get_by_test_id("keys-table").count() == 0


@scenario
def audit_filters_pages_and_downloads_csv(ctx):
    _, room_id = live_room(ctx)
    for i in range(3):
        viewer = uid("v")
        ctx.api.call("/api/v1/live/join", {"id": room_id}, ctx.api.user(viewer))
        ctx.api.call(
            "/api/v1/admin/mute",
            {"id": room_id, "user_id": viewer, "mute": True, "reason": f'=HYPERLINK("x") {i}'},
            ctx.admin,
        )
    page = signed_in(ctx)
    page.get_by_test_id("nav-audit").click()
    page.get_by_test_id("audit-room").fill(room_id)
    page.get_by_test_id("audit-action").select_option("room.mute")
    page.get_by_test_id("audit-apply").click()
    expect(page.get_by_test_id("audit-row")).to_have_count(3)
    actions = page.locator('[data-testid="audit-row"]').evaluate_all("rows => rows.map(r => r.dataset.action)")
    assert actions == ["room.mute"] * 3, actions
    with page.expect_download() as download:
        page.get_by_test_id("audit-csv").click()
    text = open(download.value.path(), encoding="utf-8").read()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3 and {r["action"] for r in rows} == {"room.mute"}, rows
    assert all(r["room_id"] == room_id for r in rows)
    # A reason that looks like a formula is kept as text.
    assert all(r["reason"].startswith("'=HYPERLINK") for r in rows), [r["reason"] for r in rows]
    assert json.loads(rows[0]["target"])["id"].startswith("v")
    # A filter that matches nothing shows nothing.
    page.get_by_test_id("audit-action").select_option("key.revoke")
    page.get_by_test_id("audit-apply").click()
    expect(page.get_by_test_id("audit-row")).to_have_count(0)


@scenario
def keys_show_their_secret_once_sign_in_and_die_when_revoked(ctx):
    page = signed_in(ctx)
    page.get_by_test_id("nav-keys").click()
    page.get_by_test_id("key-name").fill("review <robot>")
    page.get_by_test_id("scope-rooms-read").check()
    page.get_by_test_id("create-key").click()
    secret = page.get_by_test_id("created-secret").inner_text()
    assert secret.startswith("lrk_"), secret
    assert page.get_by_test_id("copy-secret").is_visible()
    key_id = secret.split("_")[1]
    row = page.locator(f'[data-testid="key-row"][data-key-id="{key_id}"]')
    row.wait_for()
    assert "review <robot>" in row.inner_text() and secret not in page.get_by_test_id("keys-table").inner_text()
    # The key signs in as itself, with only its scope.
    robot = ctx.page()
    robot.goto(ctx.base + "/console")
    robot.get_by_test_id("login-key").fill(secret)
    robot.get_by_test_id("login-submit").click()
    robot.get_by_test_id("whoami").wait_for()
    assert key_id in robot.get_by_test_id("whoami").inner_text()
    assert robot.get_by_test_id("nav-users").count() == 0
    robot.get_by_test_id("rooms-table").wait_for()
    # Revoked: the key's page is back at sign-in on its next call (a 401).
    row.get_by_test_id("revoke-key").click()
    page.get_by_test_id("confirm").click()
    expect(row).to_contain_text("revoked")
    robot.get_by_test_id("login-submit").wait_for(timeout=8000)
    assert "session has ended" in robot.get_by_test_id("error-banner").inner_text()
    assert robot.evaluate("sessionStorage.length") == 0


@scenario
def the_console_is_served_with_its_headers(ctx):
    status, headers, body = ctx.api.get("/console", {"Accept-Encoding": "gzip"})
    headers = {k.lower(): v for k, v in headers.items()}
    assert status == 200 and headers["content-encoding"] == "gzip", headers
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, csp
    assert headers["x-content-type-options"] == "nosniff"
    status, _, _ = ctx.api.get("/console", {"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]})
    assert status == 304
    # The gzip copy's tag does not stand for the plain copy a client without gzip would get.
    status, _, _ = ctx.api.get("/console", {"If-None-Match": headers["etag"]})
    assert status == 200
    status, _, body = ctx.api.get("/console/nothing-here.js")
    assert status == 404 and json.loads(body)["reason"] == "RouteNotFound"
    # The page cannot be framed.
    page = ctx.page()
    page.set_content(f'<iframe src="{ctx.base}/console"></iframe>')
    page.wait_for_timeout(500)
    frame = page.frames[1] if len(page.frames) > 1 else None
    assert frame is None or frame.url in ("", "about:blank") or "liveroom" not in (frame.content() or "")
    ctx.problems.clear()  # the refused frame logs a console error, which is the point


@scenario
def every_member_is_listed_across_pages(ctx):
    # More members than one page of `room` holds (50): the page walks every page.
    _, room_id = live_room(ctx)
    ids = [uid("crowd") for _ in range(57)]
    for member_id in ids:
        ctx.api.call("/api/v1/live/join", {"id": room_id}, ctx.api.user(member_id))
    first = ctx.api.call("/api/v1/admin/room", {"id": room_id}, ctx.admin)
    assert first.get("members_next_token"), "one page held every member: the scene is too small"
    page = signed_in(ctx)
    open_room(page, room_id)
    expect(page.get_by_test_id("member-row")).to_have_count(len(ids), timeout=10_000)
    shown = set(page.get_by_test_id("member-row").evaluate_all("rows => rows.map(r => r.dataset.userId)"))
    assert shown == set(ids), sorted(set(ids) ^ shown)


@scenario
def a_busy_room_as_the_readme_shows_it(ctx):
    """A room with a crowd arriving over a few sweeper samples, likes, a kick and a mute: the
    screenshots the README shows (target/browser/a_busy_room_as_the_readme_shows_it-*.png)."""
    anchor = ctx.api.user(uid("anchor"), nick="DJ Nova")
    room = ctx.api.call(
        "/api/v1/live/create",
        {"title": "Friday night live: vinyl and requests", "notice": "Requests in the chat",
         "category": "music"},
        anchor,
    )
    room_id = room["id"]
    ctx.api.call("/api/v1/live/start", {"id": room_id}, anchor)
    names = ["mia", "leo", "ava", "kai", "zoe", "noah", "ivy", "eli"]
    viewers = []
    for i, name in enumerate(names):
        user = f"{name}{uuid.uuid4().hex[:4]}"
        token = ctx.api.user(user)
        ctx.api.call("/api/v1/live/join", {"id": room_id}, token)
        ctx.api.call("/api/v1/live/like", {"id": room_id, "count": 5 + 7 * i}, token, expect=None)
        viewers.append((user, token))
        time.sleep(2.6)
    points = ctx.api.call("/api/v1/admin/roomSeries", {"id": room_id, "limit": 120}, ctx.admin)["points"]
    assert len(points) >= 3, points
    ctx.api.call(
        "/api/v1/admin/kick",
        {"id": room_id, "user_id": viewers[1][0], "ban_seconds": 3600, "reason": "spam links"},
        ctx.admin,
    )
    ctx.api.call(
        "/api/v1/admin/mute",
        {"id": room_id, "user_id": viewers[2][0], "mute": True, "reason": "shouting"},
        ctx.admin,
    )
    page = signed_in(ctx)
    page.locator(f'[data-room-id="{room_id}"]').wait_for()
    ctx.shot(page, "desktop-rooms")
    open_room(page, room_id)
    expect(page.get_by_test_id("member-row")).to_have_count(len(names) - 1)
    expect(page.locator('[data-testid="audit-row"]')).to_have_count(2)
    page.get_by_test_id("stop-reason").fill("prohibited content")
    ctx.shot(page, "desktop-room")
    phone = signed_in(ctx, PHONE)
    phone.locator(f'[data-room-id="{room_id}"]').wait_for()
    ctx.shot(phone, "phone-rooms", full_page=False)
    phone.goto(f"{ctx.base}/console#/room/{room_id}")
    phone.get_by_test_id("online-chart").wait_for()
    ctx.shot(phone, "phone-room", full_page=False)


@scenario
def the_audit_log_pages_older_and_back(ctx):
    _, room_id = live_room(ctx)
    viewer = uid("v")
    ctx.api.call("/api/v1/live/join", {"id": room_id}, ctx.api.user(viewer))
    for i in range(53):
        ctx.api.call(
            "/api/v1/admin/mute",
            {"id": room_id, "user_id": viewer, "mute": i % 2 == 0, "reason": f"step {i}"},
            ctx.admin,
        )
    page = signed_in(ctx)
    page.get_by_test_id("nav-audit").click()
    page.get_by_test_id("audit-room").fill(room_id)
    page.get_by_test_id("audit-apply").click()
    rows = page.get_by_test_id("audit-row")
    expect(rows).to_have_count(50)
    assert "step 52" in rows.first.inner_text()
    assert page.get_by_test_id("audit-first").is_disabled()
    page.get_by_test_id("audit-next").click()
    expect(rows).to_have_count(3)
    assert "step 2" in rows.first.inner_text() and "step 0" in rows.last.inner_text()
    expect(page.get_by_test_id("audit-next")).to_be_disabled()
    page.get_by_test_id("audit-first").click()
    expect(rows).to_have_count(50)
