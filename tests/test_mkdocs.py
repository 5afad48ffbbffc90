"""The docs site: ``mkdocs build --strict`` over ``docs/`` (mkdocs.yml) succeeds, so a broken link,
a missing anchor or a page left out of the navigation fails the tests; the README links every page."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

MKDOCS = [sys.executable, "-m", "mkdocs", "build", "--strict"]


def _build(config: Path, site: Path) -> subprocess.CompletedProcess:
    env_free_of_banner = {"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"}
    return subprocess.run(MKDOCS + ["--config-file", str(config), "--site-dir", str(site)], capture_output=True,
                          text=True, timeout=300, env=env_free_of_banner)


def test_the_site_builds_strict_with_every_page(tmp_path):
    done = _build(REPO_ROOT / "mkdocs.yml", tmp_path / "site")
    assert done.returncode == 0, done.stderr
    for page in (REPO_ROOT / "docs").glob("*.md"):
        built = tmp_path / "site" / ("index.html" if page.stem == "index" else f"{page.stem}/index.html")
        assert built.is_file(), page.name


def test_a_broken_link_fails_the_strict_build(tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(REPO_ROOT / "docs", copy / "docs")
    shutil.copy(REPO_ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    page = copy / "docs" / "loader.md"
    page.write_text(page.read_text() + "\nSee [the missing page](no-such-page.md).\n")
    done = _build(copy / "mkdocs.yml", tmp_path / "site")
    assert done.returncode == 1
    assert "no-such-page.md" in done.stderr


def test_the_readme_links_every_docs_page():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\((docs/[\w.-]+\.md)", readme))
    pages = {f"docs/{p.name}" for p in (REPO_ROOT / "docs").glob("*.md")}
    assert pages - linked == set()
