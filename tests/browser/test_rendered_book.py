"""The rendered book in headless Chromium: pages load, math renders, figures and links resolve.

CI builds the book first and points ``$GLO_TEACH_BOOK_HTML`` at ``_build/html``; without it the
test builds the book itself at the smoke budget. Screenshots of every page are saved under
``<build>/screenshots/``.
"""

from __future__ import annotations

import functools
import html
import html.parser
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urldefrag

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]


def _pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [
        c["file"] for part in toc["parts"] for c in part["chapters"]
    ]


@pytest.fixture(scope="module")
def built():
    """The book's HTML: ``$GLO_TEACH_BOOK_HTML``, else a smoke build made here."""
    build = Path(os.environ.get("GLO_TEACH_BOOK_HTML", ""))
    if not os.environ.get("GLO_TEACH_BOOK_HTML"):
        env = dict(
            os.environ,
            GLO_TEACH_BUDGET="smoke",
            CI="true",
            GLO_TEACH_PROGRESS="0",
            GLO_TEACH_WIDGETS="0",
        )
        subprocess.run(
            [
                str(Path(sys.executable).with_name("jupyter-book")),
                "build",
                str(ROOT),
                "-W",
                "-n",
                "--keep-going",
            ],
            check=True,
            env=env,
            cwd=ROOT,
        )
        build = ROOT / "_build" / "html"
    return build.resolve()


@pytest.fixture(scope="module")
def site(built):
    if CHROMIUM is None:
        pytest.fail(
            "Chromium is not installed: apt-get install chromium (scripts/test.sh does)"
        )
    build = built
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(build)
    )
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield build, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _chromium(args: list[str], tmp: Path) -> str:
    profile = tmp / "profile"
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    shutil.rmtree(profile, ignore_errors=True)
    return result.stdout


def _visible_text(dom: str) -> str:
    """Page text without code, scripts and styles (where dollar signs are legitimate)."""
    dom = re.sub(
        r"<(script|style|pre|code|textarea)\b.*?</\1>", " ", dom, flags=re.S | re.I
    )
    return html.unescape(re.sub(r"<[^>]+>", " ", dom))


@pytest.mark.parametrize("page", _pages())
def test_page_renders(site, page, tmp_path):
    build, base = site
    source = (build / f"{page}.html").read_text()
    url = f"{base}/{page}.html"
    dom = _chromium(
        [
            "--virtual-time-budget=15000",
            "--run-all-compositor-stages-before-draw",
            "--dump-dom",
            url,
        ],
        tmp_path,
    )
    assert "</html>" in dom, f"{page}: Chromium did not load the page"

    shots = build / "screenshots"
    shots.mkdir(exist_ok=True)
    shot = shots / f"{page.replace('/', '_')}.png"
    _chromium(
        [
            "--virtual-time-budget=15000",
            "--window-size=1280,2400",
            f"--screenshot={shot}",
            url,
        ],
        tmp_path,
    )
    assert shot.exists() and shot.stat().st_size > 10_000, f"{page}: no screenshot"

    # math is typeset by the vendored MathJax: no raw delimiters remain in the visible text
    if 'class="math' in source:
        assert "<mjx-container" in dom, f"{page}: MathJax did not typeset the math"
        text = _visible_text(dom)
        for raw in ("$$", "\\(", "\\["):
            assert raw not in text, f"{page}: raw {raw!r} left in the rendered page"

    # no progress bars in the page: tqdm's text ("12/790 [00:03<...]") or its widget
    text = _visible_text(dom)
    bar = re.search(r"\d+/\d+ \[\d+:\d+<|\d+(\.\d+)?(it|s)/(s|it)\]", text)
    assert bar is None and "tqdm" not in source.lower().replace(
        "glo_teach.progress", ""
    ), f"{page}: a progress bar was rendered ({bar.group(0) if bar else 'tqdm output'})"

    # every image exists in the build and is not empty
    for src in re.findall(r'<img[^>]+src="([^"]+)"', source):
        if src.startswith(("http:", "https:", "data:")):
            continue
        target = (build / page).parent / unquote(src.split("?")[0])
        assert target.exists() and target.stat().st_size > 0, (
            f"{page}: image {src} is missing"
        )

    # internal links resolve to an existing page and anchor
    for href in set(re.findall(r'<a[^>]+href="([^"]+)"', source)):
        if (
            href.startswith(("http:", "https:", "mailto:", "javascript:"))
            or href.startswith("#")
            and len(href) == 1
        ):
            continue
        path, frag = urldefrag(html.unescape(href))
        target = (
            (build / page).parent / unquote(path) if path else build / f"{page}.html"
        )
        assert target.exists(), f"{page}: link {href} points nowhere"
        if frag and target.suffix == ".html":
            assert f'id="{frag}"' in target.read_text(), (
                f"{page}: anchor #{frag} not found in {path or 'itself'}"
            )

    # an equation reference into another chapter says which chapter: equations are numbered per chapter
    # (_toc.yml's numbered parts), "(7.3)"; into an unnumbered page it names the page (book/_ext/eqref_chapter.py)
    for href, label in re.findall(
        r'<a[^>]+href="([^"#]+\.html)#equation-[^"]+"[^>]*>(.*?)</a>',
        source,
        flags=re.S,
    ):
        label = html.unescape(re.sub(r"<[^>]+>", "", label))
        chapter = re.match(r"(\d\d)_", Path(unquote(href)).name)
        if chapter:
            assert re.fullmatch(rf"\({int(chapter.group(1))}\.\d+\)", label), (
                f"{page}: {href} reads {label!r}"
            )
        else:
            assert re.fullmatch(r"\(.+, eq\. \d+\)", label), (
                f"{page}: {href} reads {label!r}"
            )

    _check_numbering(page, source)

    # widgets embedded with their state are drawn by the vendored widget manager
    if "application/vnd.jupyter.widget-state+json" in source:
        assert "jupyter-widgets" in _visible_dom_classes(dom), (
            f"{page}: embedded widgets were not rendered"
        )

    # chapters launch in Colab at their own notebook path
    if (ROOT / f"{page}.ipynb").exists():
        colab = f"https://colab.research.google.com/github/glo-teach/glo-teach/blob/main/{page}.ipynb"
        assert colab in source, f"{page}: no Colab launch link to {colab}"


# Bounds on what one page may carry (the smoke build's largest, ch. 7, is well below each):
MAX_OUTPUT_CHARS = (
    64_000  # HTML of one cell's output; images are separate files, linked
)
MAX_WIDGET_STATE_CHARS = (
    64_000  # embedded ipywidgets state: a frozen copy of the widgets' outputs
)
MAX_IMAGE_BYTES = 512_000  # one output image file
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CELL = re.compile(r'<div class="cell(?: [^"]*)? docutils container"')


class _OutputSizes(html.parser.HTMLParser):
    """Characters of HTML inside each ``div.cell_output`` of a page."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self._line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
        self._depth, self._open, self.sizes = 0, None, []
        self.feed(text)
        self.close()

    def _offset(self) -> int:
        line, col = self.getpos()
        return self._line_starts[line - 1] + col

    def handle_starttag(self, tag, attrs):
        if tag == "div":
            self._depth += 1
            if (
                self._open is None
                and "cell_output" in (dict(attrs).get("class") or "").split()
            ):
                self._open = (self._offset(), self._depth)

    def handle_endtag(self, tag):
        if tag == "div":
            if self._open is not None and self._open[1] == self._depth:
                self.sizes.append(self._offset() - self._open[0])
                self._open = None
            self._depth -= 1


@pytest.mark.parametrize("page", _pages())
def test_page_has_no_dead_widget_or_oversized_output(built, page):
    """Static HTML only (no browser), so it also runs on a build that did not execute the notebooks.

    A widget view needs a kernel, or embedded state, to draw anything: each must have a static image in its
    own cell or a neighbouring one (the built page's stand-in for the slider); the build runs with
    ``GLO_TEACH_WIDGETS=0`` so that normally there is none. No cell output, embedded widget state or output
    image is larger than the bounds above. The Colab badge's alt text says what the link does.
    """
    from glo_teach.assignments import COLAB_ALT

    source = (built / f"{page}.html").read_text()
    cells = CELL.split(source)
    for k, cell in enumerate(cells):
        if WIDGET_VIEW in cell:
            near = cells[max(k - 1, 0) : k + 2]
            assert any("<img" in c for c in near), (
                f"{page}: a widget without a static figure beside it (cell {k})"
            )
    for state in re.findall(
        r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>',
        source,
        re.S,
    ):
        assert len(state) <= MAX_WIDGET_STATE_CHARS, (
            f"{page}: {len(state)} characters of frozen widget state"
        )
    sizes = _OutputSizes(source).sizes
    assert max(sizes, default=0) <= MAX_OUTPUT_CHARS, (
        f"{page}: a cell output of {max(sizes)} characters"
    )
    for src in re.findall(r'<img[^>]+src="([^"]+)"', source):
        if not src.startswith(("http:", "https:", "data:")):
            size = ((built / page).parent / unquote(src.split("?")[0])).stat().st_size
            assert size <= MAX_IMAGE_BYTES, f"{page}: image {src} is {size} bytes"
    badges = re.findall(
        r'<img[^>]*src="https://colab\.research\.google\.com/assets/colab-badge\.svg"[^>]*>',
        source,
    )
    alts = [
        html.unescape(m.group(1)) if (m := re.search(r'alt="([^"]*)"', b)) else None
        for b in badges
    ]
    if (ROOT / f"{page}.ipynb").exists():
        assert alts == [COLAB_ALT], f"{page}: Colab badges' alt texts {alts}"
    else:
        assert all(alt == COLAB_ALT for alt in alts), (
            f"{page}: Colab badges' alt texts {alts}"
        )


def _visible_dom_classes(dom: str) -> str:
    return " ".join(re.findall(r'class="([^"]*)"', dom))


def _check_numbering(page: str, source: str) -> None:
    """Chapter N's page is titled "N. ..." (once: the title carries no hand number), its exercises are
    "Exercise N.1", "Exercise N.2", ... in order with labels chNN-exK, each solution is folded and points to its
    exercise, and a {numref} link to an exercise reads that exercise's number. Pages outside the chapters are
    unnumbered. Static HTML, so it can also be run on a build that did not execute the notebooks."""
    chapter = re.match(r"(\d\d)_", Path(page).name)
    h1 = re.search(
        r"<h1>((?:(?!</h1>).)*?)<a class=\"headerlink\"", source, flags=re.S
    )  # the article's title
    title = html.unescape(re.sub(r"<[^>]+>", "", h1.group(1))).strip() if h1 else ""
    if chapter is None:
        assert not re.match(r"\d", title), f"{page}: unnumbered page titled {title!r}"
        return
    n = int(chapter.group(1))
    assert re.match(rf"{n}\. \D", title), (
        f"{page}: titled {title!r}, expected '{n}. ...'"
    )
    exercises = re.findall(
        r'<div class="exercise[^"]*" id="(ch\d\d-ex\d+)"[^>]*>\s*<p class="admonition-title">(.*?)</p>',
        source,
        flags=re.S,
    )
    assert exercises, f"{page}: no exercise"
    for k, (label, head) in enumerate(exercises, 1):
        head = html.unescape(re.sub(r"<[^>]+>", "", head)).strip()
        assert label == f"ch{n:02d}-ex{k}" and re.match(
            rf"Exercise {n}\.{k}\b", head
        ), f"{page}: {label} reads {head!r}"
    solutions = re.findall(
        r'<div class="solution ([^"]*)"[^>]*>\s*<p class="admonition-title">Solution to'
        r'<a class="reference internal" href="#(ch\d\d-ex\d+)"',
        source,
    )
    assert [label for _, label in solutions] == [label for label, _ in exercises], (
        f"{page}: solutions {solutions}"
    )
    assert all("dropdown" in classes.split() for classes, _ in solutions), (
        f"{page}: a solution is not folded"
    )
    for href, text in re.findall(
        r'<a class="reference internal" href="([^"]*#ch\d\d-ex\d+)">'
        r'<span class="std std-numref">(.*?)</span>',
        source,
    ):
        c, k = re.search(r"ch(\d\d)-ex(\d+)$", href).groups()
        assert text.lower() == f"exercise {int(c)}.{k}", (
            f"{page}: link {href} reads {text!r}"
        )
