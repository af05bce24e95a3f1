"""The documentation site, opened page by page in a real browser (headless Chromium).

``make test-docs`` builds the site (``make docs-site``) and runs this file: the built
``build/site`` is served on a free port of localhost and every page is opened in Debian's
Chromium through its chromedriver (Selenium). Each page must load with no console error,
every image must have loaded (``naturalWidth > 0``), every link inside the site and every
anchor must resolve, the API pages must document every public name, and the search box
must find ``stateful``. A screenshot of each page goes to ``results/docs-site/``.

The browser run takes minutes, so ``make test`` skips it: it runs when ``KLP_DOCS_SITE`` is
set, and with ``KLP_DOCS_SITE=required`` (as ``make test-docs`` sets it) a missing site or
browser is a failure, not a skip.
"""

from __future__ import annotations

import functools
import http.server
import importlib
import os
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "build" / "site"
SHOTS = ROOT / "results" / "docs-site"
PACKAGE = "keras_lstm_patterns"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
REQUIRED = os.environ.get("KLP_DOCS_SITE") == "required"
pytestmark = pytest.mark.skipif(
    not os.environ.get("KLP_DOCS_SITE"), reason="the browser run is `make test-docs`"
)


def missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(reason)
    pytest.skip(reason)


def pages() -> list[str]:
    """Every HTML page of the built site, as paths relative to its root."""
    return sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html"))


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").exists():
        missing(f"no built site in {SITE}: run `make docs-site`")
    handler = functools.partial(Quiet, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing("selenium is not installed: run `make docs-site`")
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        missing("Chromium is not installed: apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = ROOT / "results" / "docs-site-profile"
    shutil.rmtree(profile, ignore_errors=True)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


# what the browser reports of each page: filled once, read by the tests below
PAGE_FACTS = """
return {
  ready: document.readyState,
  title: document.title,
  ids: Array.from(document.querySelectorAll('[id], a[name]')).map(e => e.id || e.name),
  images: Array.from(document.images).map(i => [i.currentSrc || i.src, i.complete, i.naturalWidth]),
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
  text: document.body.innerText,
};
"""


@pytest.fixture(scope="module")
def visited(server, browser):
    """Open every page once: its facts, console errors and a screenshot."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.get(server)  # a first page, so that the log below starts empty
    browser.get_log("browser")
    facts = {}
    for page in pages():
        browser.get(server + page)
        for _ in range(50):
            done = browser.execute_script(
                "return document.readyState === 'complete' && "
                "Array.from(document.images).every(i => i.complete)"
            )
            if done:
                break
            time.sleep(0.1)
        fact = browser.execute_script(PAGE_FACTS)
        fact["console"] = [
            e for e in browser.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")
        ]
        browser.save_screenshot(
            str(SHOTS / (page.replace("/", "__").removesuffix(".html") + ".png"))
        )
        facts[page] = fact
    return facts


def test_the_site_has_the_pages_of_its_parts():
    if not (SITE / "index.html").exists():
        missing(f"no built site in {SITE}: run `make docs-site`")
    found = set(pages())
    recipes = sorted(p.stem for p in (ROOT / "recipes").glob("[a-z]*.py"))
    expected = {
        "index.html",
        "results.html",
        "benchmarks.html",
        "keras3-migration.html",
        "api/index.html",
        "project/about.html",
        "guide/the-shape-rules.html",
        "guide/your-own-data.html",
        "guide/stateful-the-rules.html",
        *(f"lessons/{r}.html" for r in recipes),
    }
    assert expected <= found, sorted(expected - found)
    assert all((SITE / "lessons" / f"{r}.ipynb").exists() for r in recipes)


def test_every_page_loads_without_console_errors(visited):
    errors = {page: f["console"] for page, f in visited.items() if f["console"]}
    assert not errors, errors
    assert all(f["ready"] == "complete" and f["title"] for f in visited.values())


def test_every_image_has_loaded(visited):
    broken = {
        page: [src for src, complete, width in f["images"] if not (complete and width > 0)]
        for page, f in visited.items()
    }
    assert not {p: b for p, b in broken.items() if b}
    shown = sum(len(f["images"]) for f in visited.values())
    pictures = len(list((ROOT / "docs" / "img").glob("*.png")))
    assert shown >= pictures  # every picture of docs/img is shown somewhere


def test_the_guide_shows_each_pattern_with_its_picture(visited):
    images = {
        Path(urllib.parse.urlparse(src).path).name
        for page, f in visited.items()
        if page.startswith("guide/")
        for src, _, _ in f["images"]
    }
    for png in (ROOT / "docs" / "img").glob("*.png"):
        assert png.name in images, png.name


def test_every_internal_link_and_anchor_resolves(server, visited):
    checked: dict[str, int] = {}
    bad = []
    for page, f in visited.items():
        for href in f["links"]:
            url = urllib.parse.urlparse(href)
            if not href.startswith(server):
                assert url.scheme in ("http", "https", "mailto", "javascript", ""), href
                continue
            target = url.path.removeprefix("/")
            target = target + "index.html" if target.endswith("/") or not target else target
            if target not in checked:
                try:
                    with urllib.request.urlopen(server + target, timeout=30) as response:
                        checked[target] = response.status
                except urllib.error.HTTPError as err:
                    checked[target] = err.code
            if checked[target] != 200:
                bad.append((page, href, checked[target]))
            elif url.fragment and target.endswith(".html"):
                fragment = urllib.parse.unquote(url.fragment)
                if fragment not in visited[target]["ids"]:
                    bad.append((page, href, "no such anchor"))
    assert not bad, bad[:20]
    assert len(checked) >= len(visited) // 2  # the pages link to each other


def test_the_api_pages_document_every_public_name(visited):
    package = importlib.import_module(PACKAGE)
    top = visited["api/index.html"]["ids"]
    for name in package.__all__:
        module_page = f"api/{name}.html"
        if module_page in visited:
            continue
        assert f"{PACKAGE}.{name}" in top, name
    modules = [p for p in visited if p.startswith("api/") and p != "api/index.html"]
    assert len(modules) >= 5
    for page in modules:
        module_name = (
            PACKAGE + "." + page.removeprefix("api/").removesuffix(".html").replace("/", ".")
        )
        module = importlib.import_module(module_name)
        names = getattr(module, "__all__", None) or [
            n
            for n, v in vars(module).items()
            if not n.startswith("_")
            and getattr(v, "__module__", None) == module_name
            and callable(v)
        ]
        missing_names = [n for n in names if f"{module_name}.{n}" not in visited[page]["ids"]]
        assert not missing_names, (page, missing_names)


def test_each_lesson_shows_its_code_and_its_quick_run(visited):
    shown = 0
    for recipe in sorted(p.stem for p in (ROOT / "recipes").glob("[a-z]*.py")):
        f = visited[f"lessons/{recipe}.html"]
        assert f"Source: recipes/{recipe}.py" in f["text"]
        assert "import" in f["text"]  # its code
        if "The outputs on this page come from a quick run" in f["text"]:
            plots = [src for src, _, _ in f["images"] if f"/lessons/{recipe}_" in src]
            assert plots, recipe  # the plot of the run
            assert "--quick: a smoke test" in f["text"] or "QUICK" in f["text"], recipe
            shown += 1
        else:  # the recipe changed since its run was captured: the page says so
            assert "No captured run" in f["text"], recipe
    assert shown >= 1


def test_the_search_box_finds_stateful(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "index.html")
    box = WebDriverWait(browser, 20).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, "input.md-search__input"))
    )
    box.click()  # the header's search box, as a reader would
    box.send_keys("stateful")
    WebDriverWait(browser, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".md-search-result__item")
    )
    results = browser.find_elements(By.CSS_SELECTOR, ".md-search-result__item")
    text = " ".join(r.text for r in results).lower()
    assert len(results) >= 3 and "stateful" in text
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / "search-stateful.png"))
    first = results[0].find_element(By.CSS_SELECTOR, "a").get_attribute("href")
    browser.get(first)
    assert "stateful" in browser.find_element(By.TAG_NAME, "article").text.lower()
    assert not [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
