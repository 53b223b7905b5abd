"""How long after a keystroke the language server publishes diagnostics, on models/seed.snn.

    .venv/bin/python benchmarks/lsp_latency.py [--edits 40] [--file models/seed.snn]

Starts ``python -m snndsl lsp`` as an editor would, opens the file, waits for the first diagnostics (the
server has loaded the compiler by then), then types: each edit inserts one character (alternately making the
file invalid and valid again: a stray letter in a parameter name, then its removal) and the time is taken
from sending ``didChange`` to receiving the ``publishDiagnostics`` for that version. Edits come at a typist's
pace (150 ms apart), so the debounce does not delay them (a keystroke after a pause is checked at once). Also
reports the front end alone (``snndsl.lsp.analysis.analyse``: check and view) in this process.
Only the standard library speaks the protocol here: no client library is needed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from queue import Queue

ROOT = Path(__file__).resolve().parent.parent


class Client:
    """A minimal LSP client over a subprocess's stdin/stdout."""

    def __init__(self, cmd: list[str]):
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=ROOT)
        self.inbox: Queue = Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            length = None
            while (line := out.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line or length is None:
                return
            self.inbox.put((time.perf_counter(), json.loads(out.read(length))))

    def send(self, method: str, params: dict, request: bool = False) -> int | None:
        msg = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            msg["id"] = self.next_id
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.proc.stdin.flush()
        return msg.get("id")

    def wait(self, pred, timeout: float = 60.0) -> tuple[float, dict]:
        end = time.time() + timeout
        while True:
            t, msg = self.inbox.get(timeout=max(0.01, end - time.time()))
            if pred(msg):
                return t, msg

    def close(self) -> None:
        rid = self.send("shutdown", {}, request=True)
        self.wait(lambda m: m.get("id") == rid, 10)
        self.send("exit", {})
        self.proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", default="models/seed.snn")
    ap.add_argument("--edits", type=int, default=40)
    args = ap.parse_args()
    path = (ROOT / args.file).resolve()
    text = path.read_text(encoding="utf-8")
    uri = path.as_uri()

    t0 = time.perf_counter()
    client = Client([sys.executable, "-m", "snndsl", "lsp"])
    rid = client.send("initialize", {"processId": os.getpid(), "rootUri": ROOT.as_uri(), "capabilities": {}},
                      request=True)
    client.wait(lambda m: m.get("id") == rid)
    client.send("initialized", {})
    client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "snn", "version": 0,
                                                          "text": text}})
    is_diag = lambda v: lambda m: (m.get("method") == "textDocument/publishDiagnostics"  # noqa: E731
                                   and m["params"]["uri"] == uri and m["params"].get("version") == v)
    t_first, _ = client.wait(is_diag(0), 120)
    print(f"server start to first diagnostics: {t_first - t0:.2f} s")

    line = next(i for i, ln in enumerate(text.splitlines()) if "pop hidden" in ln)
    col = text.splitlines()[line].index("tau") + 3
    times, counts = [], []
    for v in range(1, args.edits + 1):
        if v % 2:   # type a letter: `tau` becomes `taux` (SNN203)
            change = {"range": {"start": {"line": line, "character": col}, "end": {"line": line, "character": col}},
                      "text": "x"}
        else:       # delete it again
            change = {"range": {"start": {"line": line, "character": col},
                                "end": {"line": line, "character": col + 1}}, "text": ""}
        sent = time.perf_counter()
        client.send("textDocument/didChange", {"textDocument": {"uri": uri, "version": v},
                                               "contentChanges": [change]})
        got, msg = client.wait(is_diag(v))
        times.append(got - sent)
        counts.append(len(msg["params"]["diagnostics"]))
        time.sleep(0.15)    # a typist's pace, so each keystroke is checked on its own
    client.close()
    assert counts[0] == 1 and counts[1] == 0, counts[:2]
    ms = sorted(t * 1e3 for t in times)
    print(f"keystroke to diagnostics ({len(ms)} edits): median {statistics.median(ms):.1f} ms, "
          f"p90 {ms[int(0.9 * (len(ms) - 1))]:.1f} ms, max {ms[-1]:.1f} ms")

    sys.path.insert(0, str(ROOT))
    from snndsl.lsp.analysis import analyse
    from snndsl.source import SourceFile

    analyse(SourceFile(str(path), text))
    own = []
    for _ in range(30):
        start = time.perf_counter()
        analyse(SourceFile(str(path), text))
        own.append((time.perf_counter() - start) * 1e3)
    print(f"front end alone (check + view, warm): median {statistics.median(own):.1f} ms, min {min(own):.1f} ms")


if __name__ == "__main__":
    main()
