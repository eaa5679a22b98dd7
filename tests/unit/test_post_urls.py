"""A post's link is checked and written one way: the same post however it is pasted, nothing unsafe."""
from __future__ import annotations

import pytest

from domain.errors import ErrorCode, UserError
from domain.posts.urls import Platform, normalize, url_key

IG, TT, YT, X, LINE, BLOG, OTHER = (Platform.INSTAGRAM, Platform.TIKTOK, Platform.YOUTUBE, Platform.X,
                                    Platform.LINE_VOOM, Platform.BLOG, Platform.OTHER)


@pytest.mark.parametrize("platform, pasted, canonical", [
    (IG, "https://www.instagram.com/p/Cx1AbC/?igshid=abc123&utm_source=ig_web", "https://instagram.com/p/Cx1AbC"),
    (IG, "https://instagram.com/p/Cx1AbC", "https://instagram.com/p/Cx1AbC"),
    (IG, "HTTPS://WWW.INSTAGRAM.COM/p/Cx1AbC//", "https://instagram.com/p/Cx1AbC"),
    (IG, "https://m.instagram.com/reel/Cx1AbC/#comments", "https://instagram.com/reel/Cx1AbC"),
    (IG, "https://instagram.com:443/p/Cx1AbC/?igsh=MXd", "https://instagram.com/p/Cx1AbC"),
    (IG, "https://instagr.am/p/Cx1AbC/", "https://instagram.com/p/Cx1AbC"),
    (TT, "https://www.tiktok.com/@aiko/video/7300000000000000000?is_from_webapp=1&sender_device=pc",
     "https://tiktok.com/@aiko/video/7300000000000000000"),
    (TT, "https://m.tiktok.com/@aiko/video/7300000000000000000/", "https://tiktok.com/@aiko/video/7300000000000000000"),
    (YT, "https://youtu.be/dQw4w9WgXcQ?si=XyZ", "https://youtube.com/watch?v=dQw4w9WgXcQ"),
    (YT, "https://www.youtube.com/watch?v=dQw4w9WgXcQ&feature=share&t=42", "https://youtube.com/watch?v=dQw4w9WgXcQ"),
    (YT, "https://m.youtube.com/watch?feature=youtu.be&v=dQw4w9WgXcQ", "https://youtube.com/watch?v=dQw4w9WgXcQ"),
    (YT, "https://youtube.com/shorts/dQw4w9WgXcQ?feature=share", "https://youtube.com/watch?v=dQw4w9WgXcQ"),
    (YT, "https://www.youtube.com/embed/dQw4w9WgXcQ", "https://youtube.com/watch?v=dQw4w9WgXcQ"),
    (YT, "https://www.youtube.com/live/dQw4w9WgXcQ", "https://youtube.com/watch?v=dQw4w9WgXcQ"),
    (X, "https://twitter.com/aiko/status/1700000000000000000?s=20&t=abc", "https://x.com/aiko/status/1700000000000000000"),
    (X, "https://mobile.twitter.com/aiko/status/1700000000000000000", "https://x.com/aiko/status/1700000000000000000"),
    (X, "https://www.x.com/aiko/status/1700000000000000000/", "https://x.com/aiko/status/1700000000000000000"),
    (LINE, "https://linevoom.line.me/post/1160000000000000000?utm_medium=share",
     "https://voom.line.me/post/1160000000000000000"),
    (LINE, "https://voom.line.me/post/1160000000000000000", "https://voom.line.me/post/1160000000000000000"),
    (BLOG, "https://www.aiko-blog.jp/2027/05/unboxing/?utm_campaign=x&fbclid=abc&gclid=def&ref=tw",
     "https://aiko-blog.jp/2027/05/unboxing"),
    (BLOG, "https://aiko-blog.jp/post?id=7&page=2", "https://aiko-blog.jp/post?id=7&page=2"),
    (BLOG, "https://aiko-blog.jp/post?page=2&id=7&utm_source=a", "https://aiko-blog.jp/post?id=7&page=2"),
    (OTHER, "https://note.com/aiko/n/n1234abcd", "https://note.com/aiko/n/n1234abcd"),
    (OTHER, "https://Note.COM./aiko/n/n1234abcd", "https://note.com/aiko/n/n1234abcd"),
])
def test_a_link_pasted_in_any_form_is_written_in_its_one_canonical_form(platform, pasted, canonical):
    assert normalize(platform, pasted) == canonical


def test_the_forms_of_one_youtube_video_share_one_claim_key():
    forms = ["https://youtu.be/dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ&si=a",
             "https://youtube.com/shorts/dQw4w9WgXcQ", "https://m.youtube.com/watch?v=dQw4w9WgXcQ#t=3"]
    assert len({url_key(normalize(YT, f)) for f in forms}) == 1
    assert url_key(normalize(YT, forms[0])) != url_key(normalize(YT, "https://youtu.be/dQw4w9WgXcR"))


def test_the_path_keeps_its_case_because_post_ids_are_case_sensitive():
    assert normalize(IG, "https://instagram.com/p/AbC/") != normalize(IG, "https://instagram.com/p/abc/")


@pytest.mark.parametrize("platform, link", [
    (IG, "javascript:alert(1)"),
    (IG, "JavaScript://instagram.com/%0aalert(1)"),
    (BLOG, "data:text/html;base64,PHNjcmlwdD4="),
    (IG, "http://instagram.com/p/Cx1AbC"),
    (BLOG, "ftp://aiko-blog.jp/x"),
    (BLOG, "//aiko-blog.jp/x"),
    (BLOG, "aiko-blog.jp/x"),
    (IG, "https://user:pass@instagram.com/p/Cx1AbC"),
    (IG, "https://user@instagram.com/p/Cx1AbC"),
    (IG, "https://instagram.com:8443/p/Cx1AbC"),
    (IG, "https://instagram.com:0/p/x"),
    (IG, "https://evilinstagram.com/p/Cx1AbC"),
    (IG, "https://instagram.com.evil.example/p/Cx1AbC"),
    (IG, "https://tiktok.com/@a/video/1"),
    (X, "https://x.co/aiko/status/1"),
    (YT, "https://youtu.be/"),
    (YT, "https://youtu.be/<script>"),
    (BLOG, "https://instagram.com/p/Cx1AbC"),
    (BLOG, "https://127.0.0.1/x"),
    (BLOG, "https://[::1]/x"),
    (BLOG, "https://localhost/x"),
    (BLOG, "https://exa mple.com/x"),
    (BLOG, "https://example.com/\x00"),
    (BLOG, "https://bücher.example/x"),
    (BLOG, "https:///x"),
])
def test_unsafe_or_foreign_links_are_typed_errors_on_the_url_field(platform, link):
    with pytest.raises(UserError) as e:
        normalize(platform, link)
    assert e.value.field == "url" and e.value.code is ErrorCode.INVALID


def test_an_empty_or_overlong_link_says_so():
    with pytest.raises(UserError) as e:
        normalize(BLOG, "   ")
    assert e.value.code is ErrorCode.REQUIRED
    with pytest.raises(UserError) as e:
        normalize(BLOG, "https://a.example/" + "x" * 3000)
    assert e.value.code is ErrorCode.TOO_LONG


@pytest.mark.parametrize("pasted", ["https://example.com/blog/post", "https://example.com/blog/./post",
                                    "https://example.com/blog/drafts/../post/", "https://example.com/blog/x/%2E%2e/post",
                                    "https://example.com/../blog/post"])
def test_dot_segments_resolve_as_a_browser_would_so_one_post_has_one_link(pasted):
    assert normalize(Platform.BLOG, pasted) == "https://example.com/blog/post"


def test_the_message_for_a_link_on_another_site_names_the_platform_as_people_write_it():
    with pytest.raises(UserError) as e:
        normalize(Platform.INSTAGRAM, "https://example.com/p/x")
    assert e.value.message == "An Instagram post's link is on instagram.com or instagr.am."
