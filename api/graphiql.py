"""GraphiQL in dev mode: the page at the GraphQL endpoint and its assets under /graphiql/, from disk.

The assets are npm's graphiql and its peers, bundled by scripts/build-graphiql.mjs into build/graphiql/
when `make run` or `make test` installs its dependencies, so the IDE needs no network but the API's own.
Production never routes here (Api registers the asset route in dev mode only).

The page may carry a dev token for the headers editor: it is never cached, and its CSP lets it load and
connect to this server only."""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Callable, Mapping

from api.messages import Request, Response, error_response

ASSETS = Path(__file__).resolve().parent.parent / "build" / "graphiql"
PREFIX = "/graphiql/"
# The page's own script and stylesheet: relative, so they resolve next to the endpoint under any prefix.
ENTRY_SCRIPT, ENTRY_STYLE = "graphiql.js", "graphiql.css"

DEFAULT_QUERY = """\
# Run it: Ctrl-Enter (Cmd-Enter) or the run button.
# `me` is the member whose token is in Headers.
query Me {
  me {
    id
    name
    email
    points { available pending lifetime }
  }
}
"""

# Everything from this server only; data: for the fonts and icons its stylesheets embed. Styles may also
# be inline: Monaco (the editors) writes its own <style> elements at run time and takes no nonce for
# them. Scripts are 'self' only: the page runs no inline script (its settings are a JSON data block).
CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
))

CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".ttf": "font/ttf",
    ".txt": "text/plain; charset=utf-8",  # the bundles' license notices
}
# esbuild names chunks and fonts after their content ("chunk-4P6FUADH.js"): such a name never changes
# content, so it is cached for good; the entry names are fixed, so the browser revalidates them (ETag).
_HASHED = re.compile(r"-[A-Z0-9]{8}\.[a-z]+$")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_IMMUTABLE = "public, max-age=31536000, immutable"


class GraphiQL:
    def __init__(self, assets: Path = ASSETS, headers: Callable[[], Mapping[str, str]] | None = None,
                 query: str = DEFAULT_QUERY):
        """`headers`: called at each page render for the headers editor's initial value (the dev server
        signs a fresh member token there, so the page never holds an expired one)."""
        self.assets = assets
        self.headers = headers
        self.query = query
        self._cache: dict[str, tuple[tuple[int, int], bytes, str]] = {}

    # -- the page ---------------------------------------------------------------------------------
    def page(self) -> Response:
        if not all((self.assets / name).is_file() for name in (ENTRY_SCRIPT, ENTRY_STYLE)):
            body = ("<!doctype html><title>GraphiQL is not built</title><p>GraphiQL's assets are not built: "
                    "run <code>make deps</code> (it bundles them into build/graphiql).</p>")
            return Response(503, body.encode(), {"content-type": "text/html; charset=utf-8",
                                                 "cache-control": "no-store", **_page_security()})
        config = {"query": self.query, "headers": dict(self.headers()) if self.headers else None}
        html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kizuna GraphiQL</title>
<link rel="stylesheet" href="graphiql/{ENTRY_STYLE}">
<script type="module" src="graphiql/{ENTRY_SCRIPT}"></script>
</head>
<body>
<div id="graphiql">Loading GraphiQL&hellip;</div>
<noscript>GraphiQL needs JavaScript.</noscript>
<script id="graphiql-config" type="application/json">{_json_in_html(config)}</script>
</body>
</html>
"""
        # no-store: the page may carry a token.
        return Response(200, html.encode(), {"content-type": "text/html; charset=utf-8", "cache-control": "no-store",
                                             **_page_security()})

    # -- the assets -------------------------------------------------------------------------------
    def asset(self, req: Request, cid: str) -> Response:
        """GET /graphiql/<name>: a file of the build folder, by exact name. The name is looked up among
        the folder's own entries, never joined into a path, so no request reaches another file."""
        if req.method not in ("GET", "HEAD"):
            resp = error_response(405, "METHOD_NOT_ALLOWED", "Assets are read with GET.", cid)
            resp.headers["allow"] = "GET, HEAD"
            return resp
        name = req.path[len(PREFIX):]
        found = self._read(name)
        if found is None:
            return error_response(404, "NOT_FOUND", "No such endpoint.", cid)
        body, etag = found
        headers = {"content-type": CONTENT_TYPES[Path(name).suffix], "etag": etag,
                   "cache-control": _IMMUTABLE if _HASHED.search(name) else "no-cache",
                   "x-content-type-options": "nosniff", "cross-origin-resource-policy": "same-origin"}
        if etag in (t.strip() for t in req.headers.get("if-none-match", "").split(",")):
            return Response(304, b"", headers)
        return Response(200, b"" if req.method == "HEAD" else body, headers)

    def _read(self, name: str) -> tuple[bytes, str] | None:
        if not _NAME.fullmatch(name) or Path(name).suffix not in CONTENT_TYPES:
            return None
        try:
            entries = {e.name: e for e in os.scandir(self.assets)}
        except OSError:
            return None
        entry = entries.get(name)
        if entry is None or not entry.is_file(follow_symlinks=False):
            return None
        st = entry.stat(follow_symlinks=False)
        key = (st.st_size, st.st_mtime_ns)
        cached = self._cache.get(name)
        if cached is None or cached[0] != key:
            body = Path(entry.path).read_bytes()
            cached = (key, body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
            self._cache[name] = cached
        return cached[1], cached[2]


def _page_security() -> dict[str, str]:
    return {"content-security-policy": CSP, "x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
            "x-frame-options": "DENY"}


def _json_in_html(value: object) -> str:
    """JSON that cannot close its <script> element or open a comment, whatever strings it holds."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
