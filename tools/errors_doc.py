"""Keep docs/errors.md's rendered diagnostics current.

Every example in docs/errors.md is a model block followed by "`snndsl check model.snn` prints:" and the
output block. This script re-runs the checker on each model (as `model.snn`, next to a copy of
tests/fixtures/lib so relative imports resolve) and compares or rewrites the output blocks.

    python tools/errors_doc.py --check     # exit 1 and show the first stale example
    python tools/errors_doc.py --update    # rewrite the output blocks in place
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "errors.md"
BLOCK = re.compile(r"```[a-z-]*\n(.*?)```\n", re.S)
PRINTS = "`snndsl check model.snn` prints:"


def render(model: str, workdir: Path) -> str:
    from snndsl.cli import main

    (workdir / "app" / "model.snn").write_text(model, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(workdir / "app")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(["check", "model.snn"])
    finally:
        os.chdir(cwd)
    return err.getvalue() + out.getvalue()


def examples(text: str):
    """(start, end, model, output) of each output block that follows a model block and the PRINTS line."""
    blocks = list(BLOCK.finditer(text))
    for prev, cur in zip(blocks, blocks[1:]):
        between = text[prev.end():cur.start()]
        if PRINTS in between:
            yield cur.start(1), cur.end(1), prev.group(1), cur.group(1)


def run(update: bool) -> int:
    sys.path.insert(0, str(ROOT))
    text = DOC.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "app").mkdir()
        shutil.copytree(ROOT / "tests" / "fixtures" / "lib", work / "lib")
        pieces, last, stale = [], 0, 0
        for start, end, model, shown in examples(text):
            fresh = render(model, work)
            if fresh != shown:
                stale += 1
                if not update:
                    print(f"stale example in {DOC.name}:\n--- shown\n{shown}--- now\n{fresh}", file=sys.stderr)
                    return 1
            pieces.append(text[last:start] + fresh)
            last = end
    if update and stale:
        DOC.write_text("".join(pieces) + text[last:], encoding="utf-8")
        print(f"updated {stale} examples")
    return 0


if __name__ == "__main__":
    raise SystemExit(run("--update" in sys.argv[1:]))
