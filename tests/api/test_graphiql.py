"""GraphiQL's page and assets as the API serves them: dev mode only, from the build folder only, with
content types, caching and a CSP that keeps the page on this server. The browser run is
tests/api/test_graphiql_browser.py."""
from __future__ import annotations

import html.parser
import json
import re
from pathlib import Path

import pytest

from api.graphiql import GraphiQL
from api.http import Api
from api.messages import Request, Response
from api.runtime import build_services
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def dev_settings(dynamodb_endpoint, table_name, services, idp, tenants):
    return make_settings(dynamodb_endpoint, table_name, (idp.issuer_settings(tenants["a"]),), env="dev",
                         default_tenant=tenants["a"])


@pytest.fixture(scope="module")
def dev_services(dev_settings):
    return build_services(dev_settings)


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    """A build folder of known files, with a secret next to it and a link out of it."""
    folder = tmp_path / "graphiql"
    folder.mkdir()
    (folder / "graphiql.js").write_text("console.log('entry')")
    (folder / "graphiql.css").write_text("body{}")
    (folder / "chunk-4P6FUADH.js").write_text("export const chunk = 1")
    (folder / "codicon-37A3DWZT.ttf").write_bytes(b"\x00\x01\x00\x00font")
    (folder / "graphiql.js.LEGAL.txt").write_text("MIT")
    (folder / ".built").write_text("now")
    (folder / "notes.md").write_text("not an asset type")
    (folder / "sub").mkdir()
    (folder / "sub" / "inner.js").write_text("nested")
    (tmp_path / "secret.js").write_text("SECRET")
    (folder / "link.js").symlink_to(tmp_path / "secret.js")
    return folder


def get(api: Api, path: str, method: str = "GET", **headers: str) -> Response:
    return api.handle(Request(method=method, path=path, headers={k.replace("_", "-"): v for k, v in headers.items()},
                              body=b""))


def page_config(body: bytes) -> dict:
    """The settings the page hands its script, read as the browser would: the data block's text."""
    found = re.search(rb'<script id="graphiql-config" type="application/json">(.*?)</script>', body, re.S)
    assert found, body
    return json.loads(found.group(1))


# -- dev mode only ------------------------------------------------------------------------------------

def test_production_serves_neither_the_page_nor_any_asset(services):
    api = Api(services)  # the session's services run as production
    page = get(api, "/graphql", accept="text/html")
    assert page.status == 405 and b"<html" not in page.body
    for name in ("graphiql.js", "graphiql.css", "editor.worker.js"):
        r = get(api, f"/graphiql/{name}")
        assert r.status == 404, name
        assert json.loads(r.body)["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_dev_mode_serves_the_page_and_every_asset_it_links(dev_services):
    """The real build folder (make deps builds it): each script and stylesheet of the page is served."""
    api = Api(dev_services)
    page = get(api, "/graphql", accept="text/html,application/xhtml+xml")
    assert page.status == 200, page.body[:300]
    assert page.headers["content-type"] == "text/html; charset=utf-8"

    class Links(html.parser.HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: list[str] = []

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "script" and a.get("src") or tag == "link" and a.get("rel") == "stylesheet":
                self.found.append(a.get("src") or a["href"])

    parser = Links()
    parser.feed(page.body.decode())
    assert sorted(parser.found) == ["graphiql/graphiql.css", "graphiql/graphiql.js"]
    for link in parser.found:
        r = get(api, "/" + link)  # relative to /graphql
        assert r.status == 200 and len(r.body) > 1000, link
    for worker in ("editor.worker.js", "json.worker.js", "graphql.worker.js"):
        assert get(api, f"/graphiql/{worker}").status == 200, worker


# -- the page -----------------------------------------------------------------------------------------

def test_the_page_csp_allows_this_server_only_and_no_inline_script(dev_services, assets):
    page = get(Api(dev_services, graphiql=GraphiQL(assets)), "/graphql", accept="text/html")
    directives = dict(d.strip().split(" ", 1) for d in page.headers["content-security-policy"].split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval', no host
    assert directives["connect-src"] == "'self'" and directives["worker-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    for name, sources in directives.items():
        assert set(sources.split()) <= {"'self'", "'none'", "'unsafe-inline'", "data:"}, name
    assert "'unsafe-inline'" in directives["style-src"]  # Monaco's run-time <style> elements
    assert page.headers["x-content-type-options"] == "nosniff"
    # The page carries a token: never stored by a cache.
    assert page.headers["cache-control"] == "no-store"
    # Nothing inline runs: the only <script> without src is the JSON data block.
    scripts = re.findall(rb"<script([^>]*)>", page.body)
    assert all(b"src=" in s or b'type="application/json"' in s for s in scripts), scripts


def test_the_page_prefills_the_headers_the_server_signs_at_each_render(dev_services, assets):
    signed = iter(range(1, 100))
    ide = GraphiQL(assets, headers=lambda: {"Authorization": f"Bearer token-{next(signed)}"})
    api = Api(dev_services, graphiql=ide)
    first = page_config(get(api, "/graphql", accept="text/html").body)
    second = page_config(get(api, "/graphql", accept="text/html").body)
    assert first["headers"] == {"Authorization": "Bearer token-1"}
    assert second["headers"] == {"Authorization": "Bearer token-2"}  # fresh, never a stale one
    assert "me {" in first["query"]


def test_without_headers_the_page_prefills_none(dev_services, assets):
    config = page_config(get(Api(dev_services, graphiql=GraphiQL(assets)), "/graphql", accept="text/html").body)
    assert config["headers"] is None


def test_page_settings_cannot_close_their_data_block(dev_services, assets):
    hostile = "</script><script>alert(1)</script><!--"
    ide = GraphiQL(assets, headers=lambda: {"X-Test": hostile}, query=f"# {hostile}\n{{ me {{ id }} }}")
    body = get(Api(dev_services, graphiql=ide), "/graphql", accept="text/html").body
    assert b"alert(1)</script>" not in body and b"<!--" not in body
    config = page_config(body)
    assert config["headers"] == {"X-Test": hostile} and hostile in config["query"]


def test_a_missing_build_is_named_with_the_command_that_makes_it(dev_services, tmp_path):
    r = get(Api(dev_services, graphiql=GraphiQL(tmp_path / "nothing")), "/graphql", accept="text/html")
    assert r.status == 503 and b"make deps" in r.body


# -- the assets ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, content_type", [
    ("graphiql.js", "text/javascript; charset=utf-8"),
    ("graphiql.css", "text/css; charset=utf-8"),
    ("codicon-37A3DWZT.ttf", "font/ttf"),
    ("graphiql.js.LEGAL.txt", "text/plain; charset=utf-8"),
])
def test_each_asset_has_its_content_type_and_is_never_sniffed(dev_services, assets, name, content_type):
    r = get(Api(dev_services, graphiql=GraphiQL(assets)), f"/graphiql/{name}")
    assert r.status == 200 and r.body == (assets / name).read_bytes()
    assert r.headers["content-type"] == content_type
    assert r.headers["x-content-type-options"] == "nosniff"


def test_fixed_names_are_revalidated_and_content_named_ones_cached_for_good(dev_services, assets):
    api = Api(dev_services, graphiql=GraphiQL(assets))
    entry = get(api, "/graphiql/graphiql.js")
    assert entry.headers["cache-control"] == "no-cache" and entry.headers["etag"]
    chunk = get(api, "/graphiql/chunk-4P6FUADH.js")
    assert chunk.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_an_unchanged_asset_is_a_304_and_a_rebuilt_one_is_sent_again(dev_services, assets):
    api = Api(dev_services, graphiql=GraphiQL(assets))
    etag = get(api, "/graphiql/graphiql.js").headers["etag"]
    again = get(api, "/graphiql/graphiql.js", if_none_match=etag)
    assert again.status == 304 and again.body == b""
    (assets / "graphiql.js").write_text("console.log('rebuilt, and longer')")
    rebuilt = get(api, "/graphiql/graphiql.js", if_none_match=etag)
    assert rebuilt.status == 200 and rebuilt.body == b"console.log('rebuilt, and longer')"
    assert rebuilt.headers["etag"] != etag


def test_head_answers_the_headers_without_the_body_and_other_methods_are_405(dev_services, assets):
    api = Api(dev_services, graphiql=GraphiQL(assets))
    head = get(api, "/graphiql/graphiql.js", method="HEAD")
    assert head.status == 200 and head.body == b"" and head.headers["content-type"].startswith("text/javascript")
    post = get(api, "/graphiql/graphiql.js", method="POST")
    assert post.status == 405 and post.headers["allow"] == "GET, HEAD"


@pytest.mark.parametrize("path", [
    "/graphiql/../secret.js",            # the file next to the build folder
    "/graphiql/..%2fsecret.js",          # as sent, encoded (uvicorn passes the decoded path; both refused)
    "/graphiql/%2e%2e/secret.js",
    "/graphiql/link.js",                 # a link in the folder pointing out of it
    "/graphiql//etc/passwd",
    "/graphiql/../../../../etc/passwd",
    "/graphiql/..\\secret.js",
    "/graphiql/sub/inner.js",            # only the folder's own files, no subfolders
    "/graphiql/./graphiql.js",
    "/graphiql/graphiql.js/",
    "/graphiql/graphiql.js\x00.css",
    "/graphiql/.built",                  # hidden files
    "/graphiql/notes.md",                # types the bundle does not have
    "/graphiql/",
    "/graphiql/..",
])
def test_no_path_reaches_a_file_outside_the_build_folder(dev_services, assets, path):
    assert (assets.parent / "secret.js").read_text() == "SECRET"  # there to be found by a naive join
    r = get(Api(dev_services, graphiql=GraphiQL(assets)), path)
    assert r.status == 404, (path, r.body)
    assert b"SECRET" not in r.body

