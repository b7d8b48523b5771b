"""The API docs page (`/docs`): the OpenAPI document rendered, and tried, in the browser."""

import json
import re

from harness import PASSWORD, PHONE, scenario

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
XSS = "<img src=x onerror=alert(1)>"


def document(ctx):
    status, _, body = ctx.api.get("/openapi.json")
    assert status == 200, status
    return json.loads(body)


def operations_of(doc):
    return sorted((path, m) for path, item in doc["paths"].items() for m in item if m in METHODS)


def open_docs(ctx, page, hash=""):
    page.goto(ctx.base + "/docs" + hash)
    page.get_by_test_id("docs").wait_for()
    page.locator("[data-testid=operation]").first.wait_for()


def operation(page, method, path):
    return page.locator(f'[data-testid=operation][data-method="{method}"][data-path="{path}"]')


def open_operation(page, method, path):
    op = operation(page, method, path)
    if op.get_attribute("open") is None:
        op.locator("summary").first.click()
    op.get_by_test_id("try-send").wait_for()
    return op


def send(op, body=None):
    """Sends the operation's request (with `body` in its textarea, if given); returns the status
    and the response text the page shows."""
    if body is not None:
        op.get_by_test_id("try-body").fill(json.dumps(body))
    op.get_by_test_id("try-send").click()
    status = op.get_by_test_id("try-status")
    status.filter(has_text=re.compile(r"^\d{3}")).wait_for()
    return status.inner_text(), op.get_by_test_id("try-response").inner_text()


@scenario
def docs_page_lists_every_operation(ctx):
    doc = document(ctx)
    page = ctx.page()
    open_docs(ctx, page)
    assert page.get_by_role("heading", level=1).inner_text() == doc["info"]["title"]
    assert doc["info"]["version"] in page.get_by_test_id("docs").inner_text()
    shown = page.eval_on_selector_all(
        "[data-testid=operation]", "els => els.map(e => [e.dataset.path, e.dataset.method])"
    )
    shown = sorted(tuple(x) for x in shown)
    assert shown == operations_of(doc), set(shown) ^ set(operations_of(doc))
    assert len(shown) == len(set(shown)), "an operation appears twice"

    # An operation opened shows its summary, security, request body tree and responses.
    op = open_operation(page, "post", "/api/v1/live/list")
    text = op.inner_text()
    assert doc["paths"]["/api/v1/live/list"]["post"]["summary"] in text
    assert "Needs a bearer token" in text
    for part in ("page_num", "page_size", "required", "≤ 100", "nullable", "RoomInfo", "401"):
        assert part in text, f"{part!r} is not shown in the list operation"
    page.evaluate("() => window.scrollTo(0, 0)")
    ctx.shot(page, "desktop")


@scenario
def docs_search_filters_operations(ctx):
    page = ctx.page()
    open_docs(ctx, page)
    search = page.get_by_test_id("docs-search")
    search.fill("admin/kick")
    visible = page.locator("[data-testid=operation]:visible")
    visible.first.wait_for()
    assert visible.count() == 1, visible.count()
    assert visible.first.get_attribute("data-path") == "/api/v1/admin/kick"
    search.fill("no such operation anywhere")
    page.get_by_text("No operation matches the search.").wait_for()
    assert visible.count() == 0
    search.fill("")
    assert visible.count() == page.locator("[data-testid=operation]").count()


@scenario
def docs_deep_link_opens_an_operation(ctx):
    page = ctx.page()
    open_docs(ctx, page, "#op-adminKick")
    op = operation(page, "post", "/api/v1/admin/kick")
    op.get_by_test_id("try-send").wait_for()
    assert op.get_attribute("open") is not None
    top = op.evaluate("e => e.getBoundingClientRect().top")
    assert 0 <= top < 300, f"the operation is not scrolled to: top {top}"


@scenario
def docs_try_it_calls_the_api(ctx):
    ctx.api.user("docsreader")
    page = ctx.page()
    open_docs(ctx, page)

    # A route without a token.
    health = open_operation(page, "get", "/api/v1/live/health")
    status, body = send(health)
    assert status.startswith("200"), status
    assert json.loads(body), body
    assert "x-request-id" in health.inner_text()

    # A token route, without a token: the 401 and its error body.
    rooms = open_operation(page, "post", "/api/v1/live/list")
    example = json.loads(rooms.get_by_test_id("try-body").input_value())
    assert example == {"page_num": 1, "page_size": 1}, example
    status, body = send(rooms)
    assert status.startswith("401"), status
    error = json.loads(body)
    assert error["code"] and error["reason"] and error["request_id"], error
    assert error["request_id"] in rooms.inner_text()

    # Log in through the page, then call the token route with that token.
    login = open_operation(page, "post", "/api/v1/live/login")
    status, body = send(login, {"username": "docsreader", "password": PASSWORD})
    assert status.startswith("200"), status
    token = json.loads(body)["token"]
    login.get_by_role("button", name="Use this token").click()
    assert page.get_by_test_id("docs-token").input_value() == token
    status, body = send(rooms, {"page_num": 1, "page_size": 10})
    assert status.startswith("200"), (status, body)
    assert isinstance(json.loads(body), list), body

    # The token lives in the page's memory only.
    stored = page.evaluate("() => [localStorage.length, sessionStorage.length, document.cookie]")
    assert stored == [0, 0, ""], stored


@scenario
def docs_show_document_text_as_text(ctx):
    doc = document(ctx)
    doc["info"]["description"] = f"Intro {XSS} and `code`."
    doc["paths"]["/api/v1/live/list"]["post"]["summary"] = f"List {XSS} rooms"
    doc["components"]["schemas"]["ListRequest"]["properties"]["page_num"]["description"] = XSS
    # A schema that contains itself is shown once, then named, not followed for ever.
    doc["components"]["schemas"]["ListRequest"]["properties"]["again"] = {
        "$ref": "#/components/schemas/ListRequest"
    }
    page = ctx.page()
    page.route(
        "**/openapi.json",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(doc)
        ),
    )
    open_docs(ctx, page)
    assert page.get_by_text(f"Intro {XSS} and").is_visible()
    op = open_operation(page, "post", "/api/v1/live/list")
    assert op.get_by_text(f"List {XSS} rooms").is_visible()
    assert op.get_by_text(XSS, exact=True).is_visible()
    assert op.get_by_text("ListRequest (recursive: see above)").is_visible()
    assert json.loads(op.get_by_test_id("try-body").input_value()) == {"page_num": 1, "page_size": 1}
    assert page.locator("img").count() == 0
    assert page.evaluate("() => document.querySelectorAll('[onerror]').length") == 0


@scenario
def docs_phone_has_no_horizontal_scroll(ctx):
    page = ctx.page(viewport=PHONE)
    open_docs(ctx, page)
    for method, path in (("get", "/app/token"), ("post", "/api/v1/live/list")):
        open_operation(page, method, path)
    send(operation(page, "get", "/app/token"))
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"
    for control in page.locator("input, textarea, button").all():
        labelled = control.evaluate(
            "e => !!(e.getAttribute('aria-label') || e.labels && e.labels.length || e.textContent.trim())"
        )
        assert labelled, control.evaluate("e => e.outerHTML")
    ctx.shot(page, "phone")
