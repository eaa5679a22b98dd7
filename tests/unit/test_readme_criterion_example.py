"""The README's example of a new badge criterion is the project's own file (comments aside), registered."""
from __future__ import annotations

import ast
from pathlib import Path

from domain.badges import criteria

ROOT = Path(__file__).resolve().parents[2]
HEADER = "# domain/badges/criteria/approved_posts.py\n"


def _code(source: str) -> str:
    """The module without its docstring and comments: what runs."""
    tree = ast.parse(source)
    body = tree.body[1:] if tree.body and isinstance(tree.body[0], ast.Expr) else tree.body
    return ast.dump(ast.Module(body=body, type_ignores=[]))


def test_the_readmes_criterion_example_is_the_registered_file():
    readme = (ROOT / "README.md").read_text()
    start = readme.index("```python\n" + HEADER) + len("```python\n" + HEADER)
    example = readme[start:readme.index("```", start)]
    assert _code(example) == _code((ROOT / "domain/badges/criteria/approved_posts.py").read_text())
    assert "register(approved_posts.CRITERION)" in readme
    assert criteria.KINDS["APPROVED_POSTS"].events == frozenset({"post.approved"})
