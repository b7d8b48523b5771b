"""The API docs page (`/docs`): the OpenAPI document rendered, and tried, in the browser."""

from harness import scenario


@scenario
def docs_page_lists_every_operation(ctx):
    status, _, body = ctx.api.get("/openapi.json")
    assert status == 200
    page = ctx.page()
    page.goto(ctx.base + "/docs")
    page.get_by_test_id("docs").wait_for()
