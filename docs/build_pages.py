"""Write the documentation site's Markdown pages, at build time, from the repository's own files.

Nothing the site shows is written twice: the guide is README.md cut at its ``## `` sections,
each recipe's lesson is the recipe itself (its Markdown and code cells, read by ``jupytext``)
with the outputs of its captured quick run (``docs/runs/``, made by ``docs/capture_runs.py``),
the reference pages are RESULTS.md, benchmarks/README.md, docs/keras3-migration.md,
ARCHITECTURE.md, CONTRIBUTING.md and CHANGELOG.md as they are, and the API pages are
generated from ``keras_lstm_patterns.__all__`` and the package's public modules.

    python docs/build_pages.py            # writes build/docs/ and build/mkdocs.yml
    python -m mkdocs build --strict -f build/mkdocs.yml

Links between these files are rewritten to the pages they became (``README.md#windows-...``
becomes ``guide/windows-....md#...``, ``recipes/x.py`` becomes ``lessons/x.md``); a link to a
repository file that has no page keeps its text and loses the link.
"""

from __future__ import annotations

import ast
import base64
import importlib
import json
import re
import shutil
import sys
import unicodedata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
OUT = ROOT / "build" / "docs"
CONFIG = ROOT / "build" / "mkdocs.yml"
PACKAGE = "keras_lstm_patterns"

# repository file -> page of the site (everything else has no page)
REFERENCE = {
    "RESULTS.md": ("results.md", "Results of the full runs"),
    "benchmarks/README.md": ("benchmarks.md", "Benchmarks"),
    "docs/keras3-migration.md": ("keras3-migration.md", "Keras 3 migration notes"),
    "ARCHITECTURE.md": ("project/architecture.md", "Architecture"),
    "CONTRIBUTING.md": ("project/contributing.md", "Contributing"),
    "CHANGELOG.md": ("project/changelog.md", "Changelog"),
    "docs/about.md": ("project/about.md", "About this site"),
}
SKIPPED_SECTIONS = {"Contents", "The documentation site"}  # the navigation; the site itself
HOME_SECTIONS = {"Quick start"}  # shown on the home page


# ---------------------------------------------------------------------------------------------
# Markdown helpers


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading (how README.md links to its own sections)."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading)
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def site_slug(heading: str) -> str:
    """The anchor MkDocs gives a heading (Python-Markdown's ``toc.slugify``)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"[`*]", "", text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def split_fences(text: str) -> list[tuple[bool, str]]:
    """The text as (is_code, chunk) pieces, fenced code blocks apart from the prose."""
    pieces, prose, code, fence = [], [], [], None
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip()
        if fence is None and stripped.startswith(("```", "~~~")):
            pieces.append((False, "".join(prose)))
            prose, fence = [], stripped[:3]
            code = [line]
        elif fence is not None:
            code.append(line)
            if stripped.startswith(fence) and stripped.strip() == stripped.strip()[0] * len(
                stripped.strip()
            ):
                pieces.append((True, "".join(code)))
                code, fence = [], None
        else:
            prose.append(line)
    pieces.append((False, "".join(prose)))
    if code:
        pieces.append((True, "".join(code)))
    return [p for p in pieces if p[1]]


def headings(text: str) -> list[tuple[int, str]]:
    """(level, text) of every ATX heading outside code blocks."""
    out = []
    for is_code, chunk in split_fences(text):
        if not is_code:
            out += [(len(m[0]), m[1].strip()) for m in re.findall(r"^(#{1,6}) (.+)$", chunk, re.M)]
    return out


class Links:
    """Where each repository file and each of its headings went in the site."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}  # repository path -> page path
        self.anchors: dict[
            tuple[str, str], tuple[str, str]
        ] = {}  # (repo path, gh slug) -> (page, slug)

    def add_page(self, source: str, page: str, text: str) -> None:
        self.pages.setdefault(source, page)
        seen: dict[str, int] = {}
        for _, heading in headings(text):
            slug = site_slug(heading)
            if slug in seen:  # Python-Markdown numbers repeated headings
                seen[slug] += 1
                slug = f"{slug}_{seen[slug]}"
            else:
                seen[slug] = 0
            self.anchors.setdefault((source, github_slug(heading)), (page, slug))

    def target(self, source: str, link: str, page: str) -> str | None:
        """The link's new target as seen from ``page``, or None to drop the link."""
        if re.match(r"^[a-z][a-z0-9+.-]*:", link):  # http:, https:, mailto:
            return link
        path, _, anchor = link.partition("#")
        if path:
            base = Path(source).parent
            repo = Path(*[p for p in (base / path).parts]).as_posix()
            repo = str(Path(repo)).replace("\\", "/")
            parts: list[str] = []
            for part in repo.split("/"):
                if part == "..":
                    parts = parts[:-1]
                elif part not in (".", ""):
                    parts.append(part)
            repo = "/".join(parts)
        else:
            repo = source
        if repo.startswith("docs/img/"):
            goal, slug = repo[len("docs/") :], ""
        elif repo.startswith("recipes/") and repo.endswith(".py"):
            goal, slug = f"lessons/{Path(repo).stem}.md", ""
        elif (repo, anchor) in self.anchors:
            goal, slug = self.anchors[(repo, anchor)]
        elif repo in self.pages and not anchor:
            goal, slug = self.pages[repo], ""
        else:
            return None
        rel = relative(goal, page)
        return rel + (f"#{slug}" if slug else "")


def relative(goal: str, page: str) -> str:
    """The path of ``goal`` from ``page`` (both relative to the docs folder)."""
    up = len(Path(page).parts) - 1
    return "../" * up + goal


def rewrite(text: str, source: str, page: str, links: Links) -> str:
    """Point the text's links (outside code) at the pages they became."""

    def one(match: re.Match) -> str:
        bang, label, link = match.group(1), match.group(2), match.group(3)
        new = links.target(source, link, page)
        if new is None:
            if bang:
                raise SystemExit(f"{source}: image {link!r} has no place in the site")
            print(f"  note: {source}: link to {link!r} has no page; its text is kept")
            return label
        return f"{bang}[{label}]({new})"

    out = []
    for is_code, chunk in split_fences(text):
        if is_code:
            out.append(chunk)
            continue
        # inline code spans are left alone
        parts = re.split(r"(`[^`\n]*`)", chunk)
        for i, part in enumerate(parts):
            if i % 2 == 0:
                parts[i] = re.sub(r"(!?)\[([^\]\n]*)\]\(([^)\s]+)\)", one, part)
        out.append("".join(parts))
    return "".join(out)


def demote(text: str) -> str:
    """Every heading one level up (``###`` -> ``##``), outside code."""
    return "".join(
        chunk if is_code else re.sub(r"^#(#+ )", r"\1", chunk, flags=re.M)
        for is_code, chunk in split_fences(text)
    )


# ---------------------------------------------------------------------------------------------
# The guide: README.md at its ## sections


def readme_sections() -> tuple[str, list[tuple[str, str]]]:
    """README's introduction (title and first paragraphs) and its (heading, body) sections."""
    text = (ROOT / "README.md").read_text()
    intro, sections, current = [], [], None
    for is_code, chunk in split_fences(text):
        if is_code:
            (current[1] if current else intro).append(chunk)
            continue
        for line in chunk.splitlines(keepends=True):
            m = re.match(r"^## (.+)$", line)
            if m:
                current = (m.group(1).strip(), [])
                sections.append(current)
            else:
                (current[1] if current else intro).append(line)
    return "".join(intro), [(h, "".join(b)) for h, b in sections]


def guide(links: Links) -> list[dict]:
    intro, sections = readme_sections()
    pages = []
    for heading, body in sections:
        if heading in SKIPPED_SECTIONS:
            continue
        page = "index.md" if heading in HOME_SECTIONS else f"guide/{github_slug(heading)}.md"
        links.add_page("README.md", page, f"## {heading}\n{body}")
        pages.append((heading, body, page))
    links.pages["README.md"] = "index.md"
    return [{"heading": h, "body": b, "page": p} for h, b, p in pages], intro


def write_guide(links: Links, sections: list[dict], intro: str) -> list[dict]:
    home = [rewrite(intro, "README.md", "index.md", links)]
    nav = []
    for s in sections:
        body = rewrite(s["body"], "README.md", s["page"], links)
        if s["page"] == "index.md":
            home.append(f"## {s['heading']}\n{body}")
            continue
        write(s["page"], f"# {s['heading']}\n{demote(body)}")
        nav.append({s["heading"].replace("`", ""): s["page"]})
    home.append(HOME_MAP)
    write("index.md", "\n".join(home))
    return nav


HOME_MAP = """
## This site

- **Guide**: the README's sections, one page each, from the shape rules to the command line.
- **Lessons**: every recipe as a page: its prose, its code and the output and plot of a
  quick run (`--quick`), with a notebook to download.
- **Results** and **Benchmarks**: the full runs' figures and the speed measurements.
- **API reference**: every public name, from its docstring.
- [About this site](project/about.md): how it is built and checked.
"""


# ---------------------------------------------------------------------------------------------
# Reference pages: RESULTS.md, benchmarks, migration notes, project files


def reference(links: Links) -> list[dict]:
    nav = []
    for source, (page, _) in REFERENCE.items():
        path = ROOT / source
        if path.exists():
            links.add_page(source, page, path.read_text())
    for source, (page, title) in REFERENCE.items():
        path = ROOT / source
        if not path.exists():
            continue
        text = rewrite(path.read_text(), source, page, links)
        if not text.lstrip().startswith("# "):
            text = f"# {title}\n\n{text}"
        write(page, text)
        nav.append((source, {title: page}))
    return nav


# ---------------------------------------------------------------------------------------------
# Lessons: recipes with the outputs of their captured quick runs


def recipe_names() -> list[str]:
    return sorted(p.stem for p in (ROOT / "recipes").glob("[a-z]*.py"))


ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the colours of Keras's summary in a notebook
FIELDS = ("Pattern", "Data", "Shows", "Command", "How long", "Expected")


def markdown_header(doc: str) -> str:
    """A recipe docstring of "Field: text" lines as the Markdown header of the keras.io form."""
    title, _, body = doc.partition("\n\n")
    out, field = [f"# {' '.join(title.split()).rstrip('.')}"], None
    parts: list[list] = []
    for line in body.splitlines():
        m = re.match(rf"^({'|'.join(FIELDS)}): (.*)$", line)
        if m:
            parts.append([m.group(1), [m.group(2)]])
        elif parts:
            parts[-1][1].append(line.strip())
        else:
            out.append(line)
    for field, lines in parts:
        text = f"`{' '.join(lines)}`" if field == "Command" else "\n".join(lines)
        out += ["", f"**{field}:** {text}"]
    return "\n".join(out) + "\n"


def lesson(name: str, links: Links) -> str:
    """Write the lesson page of one recipe; its path."""
    import jupytext

    source = f"recipes/{name}.py"
    notebook = jupytext.read(ROOT / source)
    page = f"lessons/{name}.md"
    captured_path = DOCS / "runs" / f"{name}.ipynb"
    captured = json.loads(captured_path.read_text()) if captured_path.exists() else None
    fresh = captured is not None and ["".join(c["source"]).strip() for c in captured["cells"]] == [
        c.source.strip() for c in notebook.cells
    ]
    if captured is not None and not fresh:
        print(
            f"  note: {source} changed after its quick run was captured; "
            f"run `make docs-capture` to show its outputs again"
        )
    cells = captured["cells"] if fresh else [dict(c) for c in notebook.cells]
    meta = captured["metadata"].get("klp_capture", {}) if fresh else {}

    header = "".join(cells[0]["source"]) if cells[0]["cell_type"] == "markdown" else ""
    if header.startswith("# "):
        body_cells = cells[1:]
    else:  # a recipe not in the keras.io form yet: its module docstring is the header
        doc = ast.get_docstring(ast.parse((ROOT / source).read_text())) or name
        header = markdown_header(doc)
        body_cells = cells
    out = [header.rstrip() + "\n"]
    notebook_file = f"{name}.ipynb"
    full_results = links.target("RESULTS.md", f"#{github_slug(name)}", page) or relative(
        "results.md", page
    )
    if fresh:
        out.append(
            '!!! note "The outputs on this page come from a quick run"\n'
            f"    Printed by `{meta.get('command', 'python ' + source + ' --quick')}` "
            f"on {meta.get('date', 'an earlier day')} ({meta.get('backend', 'tensorflow')} backend, "
            f"{meta.get('seconds', '?')} s) and captured by `docs/capture_runs.py`. "
            "`--quick` trains for a few epochs on one seed, so its numbers are a smoke "
            "test, too short to mean anything: the figures of the full runs are in "
            f"[Results]({full_results}).\n"
        )
    else:
        why = "changed after its last captured quick run" if captured else "has no captured run yet"
        out.append(
            '!!! warning "No captured run"\n'
            f"    This recipe {why}: `make docs-capture` runs it with `--quick` and shows the "
            "outputs here. The figures of the full runs are in "
            f"[Results]({full_results}).\n"
        )
    out.append(
        f"Source: `{source}` · notebook: [{notebook_file}]({notebook_file}) "
        f"(`jupytext --to ipynb {source}`)\n"
    )
    images = 0
    for cell in body_cells:
        text = "".join(cell["source"]).strip()
        if cell["cell_type"] == "markdown":
            out.append(rewrite(text, source, page, links) + "\n")
            continue
        if text:
            out.append(f"```python\n{text}\n```\n")
        for o in cell.get("outputs", []):
            if o.get("output_type") == "execute_result":
                continue  # the value of a cell's last line (a script prints what it shows)
            if o.get("output_type") == "stream" and o.get("name") == "stdout":
                printed = ANSI.sub("", "".join(o["text"])).rstrip()
                if printed:
                    out.append(f'```text title="output"\n{printed}\n```\n')
            elif "data" in o and "image/png" in o["data"]:
                images += 1
                png = f"{name}_{images}.png"
                (OUT / "lessons" / png).write_bytes(base64.b64decode(o["data"]["image/png"]))
                out.append(f"![the plot of the quick run of {name}]({png})\n")
            elif "data" in o and "text/plain" in o["data"]:  # rich text, e.g. model.summary()
                printed = ANSI.sub("", "".join(o["data"]["text/plain"])).rstrip()
                if printed and not printed.startswith("<"):
                    out.append(f'```text title="output"\n{printed}\n```\n')
            elif o.get("output_type") == "error":
                raise SystemExit(f"{captured_path}: the captured run failed: {o.get('ename')}")
    write(page, "\n".join(out))
    (OUT / "lessons" / notebook_file).write_text(jupytext.writes(notebook, fmt="ipynb"))
    return page


# ---------------------------------------------------------------------------------------------
# API reference: keras_lstm_patterns.__all__ and the public modules


def public_modules() -> list[str]:
    """The package's modules and subpackages whose names do not start with ``_``, found
    on disk (importing them would load Keras)."""
    base = ROOT / PACKAGE
    names = []
    for path in sorted(base.rglob("*.py")):
        parts = path.relative_to(base).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and not any(p.startswith("_") for p in parts):
            names.append(".".join((PACKAGE, *parts)))
    return sorted(names)


def api() -> list[dict]:
    package = importlib.import_module(PACKAGE)
    modules = public_modules()
    top = [n for n in package.__all__ if f"{PACKAGE}.{n}" not in modules]
    lines = [
        "# API reference",
        "",
        f"Every name in `{PACKAGE}.__all__`, generated from its docstring. The modules",
        "have pages of their own (left).",
        "",
    ]
    for name in package.__all__:
        if f"{PACKAGE}.{name}" in modules:
            lines.append(f"- module [`{name}`]({name.replace('.', '/')}.md)")
    lines.append("")
    for name in top:
        lines += [f"::: {PACKAGE}.{name}", "    options:", "      show_root_full_path: false", ""]
    write("api/index.md", "\n".join(lines))
    nav: list = [{"Top-level names": "api/index.md"}]
    for module in modules:
        short = module[len(PACKAGE) + 1 :]
        page = f"api/{short.replace('.', '/')}.md"
        write(page, f"# `{short}`\n\n::: {module}\n    options:\n      show_root_heading: false\n")
        nav.append({short: page})
    return nav


# ---------------------------------------------------------------------------------------------


def write(page: str, text: str) -> None:
    path = OUT / page
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip() + "\n")


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "lessons").mkdir(parents=True)
    shutil.copytree(DOCS / "img", OUT / "img")
    shutil.copytree(DOCS / "stylesheets", OUT / "stylesheets")
    links = Links()
    sections, intro = guide(links)
    for name in recipe_names():
        links.pages[f"recipes/{name}.py"] = f"lessons/{name}.md"
    reference_nav = reference(links)
    guide_nav = write_guide(links, sections, intro)
    lessons_nav = []
    for name in recipe_names():
        lessons_nav.append({name: lesson(name, links)})
    api_nav = api()
    by = dict(reference_nav)
    project = [
        by[s]
        for s in ("docs/about.md", "ARCHITECTURE.md", "CONTRIBUTING.md", "CHANGELOG.md")
        if s in by
    ]
    nav = [
        {"Home": "index.md"},
        {"Guide": guide_nav},
        {"Lessons": lessons_nav},
        by["RESULTS.md"],
        by["benchmarks/README.md"],
        by["docs/keras3-migration.md"],
        {"API reference": api_nav},
        {"Project": project},
    ]
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    config["docs_dir"] = str(OUT)
    config["site_dir"] = str(ROOT / "build" / "site")
    config["nav"] = nav
    for plugin in config["plugins"]:
        if isinstance(plugin, dict) and "mkdocstrings" in plugin:
            python = plugin["mkdocstrings"]["handlers"]["python"]
            python["paths"] = [str(ROOT)]
            python["options"]["extensions"] = [
                str(ROOT / e) if e.startswith("docs/") else e
                for e in python["options"].get("extensions", [])
            ]
    CONFIG.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    print(
        f"pages: {sum(1 for _ in OUT.rglob('*.md'))} in {OUT.relative_to(ROOT)}; config {CONFIG.relative_to(ROOT)}"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
