"""No page scrolls sideways: every page the URL walk knows, at 390 px (a phone) and 1366 px, in
Chromium, as a member, with a realistic world (long names in two scripts, long URLs, unbroken
tokens, many shipments and columns). Wide tables must scroll inside their own box.

One browser, one context per width, logged in once (the session cookie of a Django test
client login). The failure names each page and its widest element.
"""

import os

import pytest
from django.conf import settings
from django.test import Client

from tests.browser.conftest import launch_chromium
from tests.url_world import build_realistic_world, html_pages

pytestmark = pytest.mark.browser
WIDTHS = (390, 1366)
SHOTS = os.environ.get("CASEFILE_SCREENSHOTS")

# The element sticking out furthest to the right, outside any box that scrolls or clips.
WIDEST = """() => {
  const width = window.innerWidth;
  // Inside a box that scrolls or clips (and is itself within the window)? An absolutely
  // positioned element escapes the boxes between it and its positioned containing block.
  const clipped = (el) => {
    let escapes = ["absolute", "fixed"].includes(getComputedStyle(el).position);
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (!escapes && style.overflowX !== "visible" &&
          p.getBoundingClientRect().right <= width + 0.5) return true;
      if (escapes && style.position !== "static") escapes = style.position === "fixed";
    }
    return false;
  };
  let widest = null, right = width;
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.width && r.right > right + 0.5 && !clipped(el)) { right = r.right; widest = el; }
  }
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (typeof el.className === "string" && el.className.trim()
      ? "." + el.className.trim().split(/\\s+/).join(".") : "");
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: width,
    widest: widest ? name(widest) + " (right edge " + Math.round(right) + " px): " +
      (widest.textContent || "").trim().slice(0, 60) : null,
  };
}"""
HTMX_SETTLED = "() => !document.querySelector('[hx-trigger=\"load\"], .htmx-request')"


def _pages(world, client) -> list[tuple[str, str]]:
    """The walk's pages that a member gets as HTML (GET only)."""
    pages = []
    for name, url in html_pages(world):
        response = client.get(url)
        if response.status_code == 200 and "text/html" in response["Content-Type"]:
            pages.append((name, url))
    return pages


def _check(page, url: str) -> dict:
    page.goto(url)
    page.wait_for_function(HTMX_SETTLED, timeout=5_000)
    return page.evaluate(WIDEST)


def test_no_page_scrolls_sideways(live_server, transactional_db):
    world = build_realistic_world()
    client = Client()
    client.force_login(world.alice)
    pages = _pages(world, client)
    assert len(pages) > 45, pages
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    base = live_server.url

    failures, csp = [], []
    with launch_chromium() as browser:
        for width in WIDTHS:
            context = browser.new_context(viewport={"width": width, "height": 900})
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on(
                "console",
                lambda msg: "Content Security Policy" in msg.text and csp.append(msg.text),
            )
            result = _check(page, f"{base}/accounts/login/")  # before logging in
            checked = [("login", "/accounts/login/", result)]
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}]
            )
            for name, url in pages:
                checked.append((name, url, _check(page, base + url)))
                if SHOTS:
                    slug = "".join(c if c.isalnum() else "-" for c in name)[:60]
                    page.screenshot(path=os.path.join(SHOTS, f"{slug}-{width}.png"), full_page=True)
            failures += [
                f"{width} px  {name}  {url}: {r['scrollWidth']} > {r['innerWidth']}, "
                f"widest: {r['widest']}"
                for name, url, r in checked
                if r["scrollWidth"] > r["innerWidth"]
            ]
            context.close()
    assert failures == [], "pages wider than the window:\n" + "\n".join(failures)
    assert csp == []
