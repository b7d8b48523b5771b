"""What an outsider (an anchor, a viewer, a crafted link, a shared machine) could do to the
console and the docs page, from the issue 25 attack review: each scenario failed on the code as
reviewed and holds the fix in place."""

import time

from playwright.sync_api import expect

from harness import scenario
from test_console import live_room, signed_in, uid

RLO = "\u202e"


@scenario
def attack_a_refused_user_action_is_reported_not_silently_dropped(ctx):
    """What the server refuses, the page says (the reload after an action used to clear the
    error at once); what it always refuses, the page does not offer."""
    name = uid("mod")
    ctx.api.user(name)
    ctx.api.call("/api/v1/admin/setRoles", {"user_id": name, "roles": ["moderator"]}, ctx.admin)
    gone = uid("gone")
    gone_token = ctx.api.user(gone)
    page = signed_in(ctx, username=name)
    page.get_by_test_id("nav-users").click()
    # Not offered: a moderator disabling an admin, or anyone their own account.
    page.get_by_test_id("users-search").fill("opsadmin")
    expect(page.get_by_test_id("user-row")).to_have_count(1)
    admin_row = page.locator('[data-testid="user-row"][data-user-id="opsadmin"]')
    expect(admin_row.get_by_test_id("disable-user")).to_be_disabled()
    page.get_by_test_id("users-search").fill(name)
    expect(page.get_by_test_id("user-row")).to_have_count(1)
    own_row = page.locator(f'[data-testid="user-row"][data-user-id="{name}"]')
    expect(own_row.get_by_test_id("disable-user")).to_be_disabled()
    # Offered, then refused: the account was deleted after the list was read.
    page.get_by_test_id("users-search").fill(gone)
    expect(page.get_by_test_id("user-row")).to_have_count(1)
    row = page.locator(f'[data-testid="user-row"][data-user-id="{gone}"]')
    row.wait_for()
    ctx.api.call("/api/v1/live/deleteUser", {}, gone_token)
    row.get_by_test_id("disable-user").click()
    page.get_by_test_id("disable-reason").fill("try it")
    page.get_by_test_id("confirm").click()
    time.sleep(1.5)
    banner = page.get_by_test_id("error-banner")
    assert banner.is_visible() and banner.inner_text().strip(), (
        f"the refusal was not shown: visible={banner.is_visible()} text={banner.inner_text()!r}"
    )
    expect(row).to_have_count(0)


@scenario
def attack_a_malformed_room_link_neither_throws_nor_signs_out(ctx):
    """`/console#/room/%E0%A4%A` (a link anyone can send): decodeURIComponent throws in
    route(); on load that makes start() drop the token and show the sign-in form."""
    page = signed_in(ctx)
    page.goto(ctx.base + "/console#/room/%E0%A4%A")
    page.reload()
    time.sleep(1.5)
    kept = page.evaluate("sessionStorage.getItem('liveroom.console.token')")
    problems = [p for p in ctx.problems if "URI malformed" in p]
    ctx.problems[:] = [p for p in ctx.problems if "URI malformed" not in p]
    assert kept and page.get_by_test_id("whoami").count() == 1, "the link signed the operator out"
    assert not problems, problems


@scenario
def attack_a_malformed_docs_link_still_shows_the_docs(ctx):
    """`/docs#%` : openFromHash's decodeURIComponent throws inside render(), so the whole page
    says 'The API description could not be loaded: URI malformed'."""
    page = ctx.page()
    page.goto(ctx.base + "/docs#%E0%A4%A")
    time.sleep(1.5)
    text = page.locator("#docs").inner_text()
    assert "could not be loaded" not in text, text[:200]
    assert page.get_by_test_id("operation").count() > 10


@scenario
def attack_a_bidi_override_in_a_title_or_nick_does_not_reorder_the_console(ctx):
    """Titles, notices and nicks accept U+202E (RIGHT-TO-LEFT OVERRIDE) and the console shows
    it raw, so an anchor makes `...\\u202e)live(` read as other text (and reorders the ')' the
    console adds). Reasons and key names refuse these characters; these fields do not."""
    anchor = ctx.api.user(uid("bidi"), nick=f"nick{RLO}evil")
    status = None
    try:
        room = ctx.api.call("/api/v1/live/create", {"title": f"ok {RLO}nimda yb deppots"}, anchor)
        ctx.api.call("/api/v1/live/start", {"id": room["id"]}, anchor)
    except Exception as e:  # the API refusing the override is a fix too
        status = getattr(e, "status", None)
    if status == 400:
        return
    page = signed_in(ctx)
    page.goto(f"{ctx.base}/console#/room/{room['id']}")
    page.get_by_test_id("room-title").wait_for()
    shown = page.get_by_test_id("room-title").evaluate("e => e.textContent")
    assert RLO not in shown, f"the title reached the page with a raw U+202E: {shown!r}"


@scenario
def attack_the_csv_has_no_formula_after_a_semicolon(ctx):
    """Excel in a locale whose list separator is ';' (de, fr, nl, ...) splits a .csv at ';':
    a reason `ok;=HYPERLINK(CHAR(104)&...);` becomes a cell of its own that starts with '='. csvCell
    looks at the first character of the whole value only."""
    anchor, room_id = live_room(ctx)
    viewer = uid("semi")
    token = ctx.api.user(viewer)
    ctx.api.call("/api/v1/live/join", {"id": room_id}, token)
    # No '"' and no ',': the cell is not quoted, and the second ';' ends the formula before the
    # columns after it. CHAR() spells the URL without a string literal ("http://e.x").
    url = "&".join(f"CHAR({ord(c)})" for c in "http://e.x")
    reason = f"ok;=HYPERLINK({url});"
    ctx.api.call("/api/v1/admin/kick",
                 {"id": room_id, "user_id": viewer, "ban_seconds": 600, "reason": reason}, ctx.admin)
    page = signed_in(ctx)
    page.get_by_test_id("nav-audit").click()
    page.get_by_test_id("audit-room").fill(room_id)
    page.get_by_test_id("audit-apply").click()
    expect(page.get_by_test_id("audit-row").first).to_be_visible()
    with page.expect_download() as download:
        page.get_by_test_id("audit-csv").click()
    text = open(download.value.path(), encoding="utf-8").read()
    bad = []
    for line in text.splitlines():
        for segment in line.split(";")[1:]:
            if segment.lstrip(' "')[:1] in ("=", "+", "-", "@"):
                bad.append(segment[:60])
    assert not bad, f"cells a ';' locale reads as formulas: {bad}"


@scenario
def attack_sign_out_ends_the_session_on_the_server(ctx):
    """Sign out only forgets the token in the tab (signOut, console.js): a copy taken before
    (a shared machine, a HAR file, a screenshot of devtools) keeps working for the admin API
    until it expires (ACCESS_TOKEN_TTL_SECONDS, 2 h by default). `POST /api/v1/live/logout`
    would end it: the admin routes refuse a logged-out session's token."""
    page = signed_in(ctx)
    token = page.evaluate("sessionStorage.getItem('liveroom.console.token')")
    page.get_by_test_id("sign-out").click()
    page.get_by_test_id("login-submit").wait_for()
    time.sleep(0.5)
    status = None
    try:
        ctx.api.call("/api/v1/admin/whoami", {}, token, expect=200)
        status = 200
    except Exception as e:
        status = getattr(e, "status", None)
    assert status == 401, f"the signed-out token still answers {status} on the admin API"
