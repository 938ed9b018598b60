"""KaTeX in one Node process: formulas in, one answer per formula out, in order.

``mathrender`` prepares the formulas and assembles the answers; this module
owns the process: finding KaTeX (``npm ci`` puts it in the project's
``node_modules``), starting Node on ``js/render_math.cjs``, feeding it and
reading its answers, timeouts, and a fresh process after a hang or crash.

Node with KaTeX loaded takes ~0.15 s to be ready: :func:`prestarted` starts
it before it is needed (a build with new dumps as it begins, before reading
them; a site rebuild otherwise before planning its pages), and the first
:meth:`KatexProcess.render` takes it over.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .errors import UserError

if TYPE_CHECKING:
    from .progress import Progress

JS = Path(__file__).with_name("js") / "render_math.cjs"


@dataclass(frozen=True)
class Request:
    """One formula for KaTeX.

    macros: the ``\\def…`` definitions in force for it ("" for none).
    tags:   what its environments' numbered lines show, in order (eqnum.Numbered.shown).
    """

    tex: str
    display: bool
    macros: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answer:
    """KaTeX's answer for one formula: markup when ok, else why not; transient (a timeout, a crash) is not cached."""

    ok: bool
    html: str
    why: str = ""
    transient: bool = False


def find_project(start: Path | None = None) -> Path:
    """The folder holding the project's package.json and its node_modules/katex.

    Looked for in ``start`` and its parents; by default next to this package first
    (a source checkout or an editable install), then in the current directory and up.
    """
    base = (start or Path.cwd()).resolve()
    candidates = [base, *base.parents]
    if start is None:
        candidates.insert(0, Path(__file__).resolve().parent.parent)
    for folder in candidates:
        if (folder / "node_modules" / "katex" / "package.json").is_file():
            return folder
    for folder in candidates:
        if (folder / "package.json").is_file():
            raise UserError(f"KaTeX is not installed in {folder / 'node_modules'}", hint=f"run `npm ci` in {folder}")
    raise UserError("no package.json found, so KaTeX cannot be located", hint="run from the project folder, after `npm ci`")


def katex_dist(project: Path | None = None) -> Path:
    """KaTeX's ``dist`` folder (``katex.min.css``, ``fonts/``), for copying into the site's assets."""
    return (project or find_project()) / "node_modules" / "katex" / "dist"


def katex_version(project: Path | None = None) -> str:
    meta = json.loads(((project or find_project()) / "node_modules" / "katex" / "package.json").read_text("utf-8"))
    return str(meta["version"])


def node() -> str:
    found = shutil.which("node")
    if found is None:
        raise UserError("Node.js is not installed; it runs KaTeX to render the math", hint="install nodejs, then `npm ci`")
    return found


class Started:
    """A Node process running the KaTeX script; its answers are read into a queue as they come
    once :meth:`answers` is first called (until then this process has no thread of its own,
    so a build may still fork while Node loads)."""

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.errors = tempfile.TemporaryFile()  # noqa: SIM115  (kept open for the process's life; closed by close())
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors)
        assert self.proc.stdin is not None and self.proc.stdout is not None  # both were asked for
        self.stdin: IO[bytes] = self.proc.stdin
        self._lines: queue.Queue[bytes] | None = None

    def answers(self) -> queue.Queue[bytes]:
        """Node's output lines, read by a thread started on the first call (b"" once Node is gone)."""
        if self._lines is None:
            self._lines = queue.Queue()
            threading.Thread(target=_drain, args=(self.proc.stdout, self._lines), daemon=True).start()
        return self._lines

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.errors.close()


def command(project: Path | None = None) -> list[str]:
    return [node(), str(JS), str(katex_dist(project).parent)]


@contextmanager
def prestarted(project: Path | None = None) -> Iterator[Started | None]:
    """Node with KaTeX, started now for a render to come (None without Node or KaTeX: the
    render then says what is missing); stopped on leaving unless a render took it over."""
    try:
        started: Started | None = Started(command(project))
    except (UserError, OSError):
        started = None
    try:
        yield started
    finally:
        if started is not None:
            started.close()  # (again, if a render took it over and closed it: harmless)


class KatexProcess:
    """Node running js/render_math.cjs: requests in, one answer per request out, in order."""

    def __init__(self, command: list[str], timeout: float, started: Started | None = None) -> None:
        """``started``: a process of the same ``command`` already loading KaTeX, used first."""
        self.command = command
        self.timeout = timeout
        self.processes = 0  # how many Node processes the last render() needed
        self.started = started if started is not None and started.command == command else None

    def render(self, requests: Sequence[Request], progress: Progress | None = None) -> list[Answer]:
        """Answers for ``requests``; a formula that hangs or kills Node fails, and a new Node goes on.
        ``progress`` is ticked once per answer."""
        out: list[Answer] = []
        self.processes = 0
        ticks = iter(progress(range(len(requests)), "math", len(requests)) if progress else ())
        while len(out) < len(requests):
            out += self._run(requests[len(out) :], ticks)
        for _ in ticks:  # (none left: ends the display)
            pass
        return out

    def _run(self, requests: Sequence[Request], ticks: Iterator[int]) -> list[Answer]:
        """Answers for a prefix of ``requests``: all of them, unless Node hangs or dies on one."""
        self.processes += 1
        started, self.started = self.started or Started(self.command), None
        try:
            threading.Thread(target=_feed, args=(started.stdin, requests), daemon=True).start()
            return self._answers(requests, started.answers(), started.errors, ticks)
        finally:
            started.close()

    def _answers(self, requests: Sequence[Request], lines: queue.Queue[bytes], errors: IO[bytes],
                 ticks: Iterator[int]) -> list[Answer]:
        ready = _get(lines, max(self.timeout, 30.0))
        if not ready or b'"ready"' not in ready:
            raise UserError(f"KaTeX could not start: {_tail(errors) or 'no answer from Node'}", hint="run `npm ci`")
        out: list[Answer] = []
        while len(out) < len(requests):
            line = _get(lines, self.timeout)
            if not line:  # None: no answer in time; b"": Node is gone
                why = f"took longer than {self.timeout:g} s" if line is None else f"crashed Node: {_tail(errors)}"
                out.append(Answer(False, "", f"KaTeX {why}", transient=True))
                break
            answer = _answer(line)
            if answer is not None:  # anything else on stdout (a stray log line) is not an answer
                out.append(answer)
                next(ticks, None)
        return out


def _answer(line: bytes) -> Answer | None:
    try:
        answer = json.loads(line)
        ok = answer["ok"] is True
        return Answer(ok, str(answer["html"]) if ok else "", "" if ok else str(answer["error"]))
    except (ValueError, TypeError, KeyError):
        return None


def _get(lines: queue.Queue[bytes], timeout: float) -> bytes | None:
    """The next line from Node; b"" once Node has closed its output, None after ``timeout`` seconds."""
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return None


def _tail(errors: IO[bytes]) -> str:
    errors.seek(0)
    text = errors.read().decode("utf-8", "replace").strip()
    return " ".join(text.splitlines()[-3:])[-300:]


def _feed(stdin: IO[bytes], requests: Iterable[Request]) -> None:
    """Write the requests (each macro set once, before its first use); stop quietly if Node is gone."""
    sets: dict[str, str] = {}
    try:
        for r in requests:
            if r.macros and r.macros not in sets:
                sets[r.macros] = str(len(sets))
                stdin.write(_line({"defs": r.macros, "id": sets[r.macros]}))
            stdin.write(_line({"tex": r.tex, "display": r.display, "m": sets.get(r.macros), "tags": r.tags}))
        stdin.close()
    except OSError:  # BrokenPipe: Node was stopped (timeout) or crashed; _answers reports it
        pass


def _drain(stdout: IO[bytes], lines: queue.Queue[bytes]) -> None:
    for line in stdout:
        lines.put(line)
    lines.put(b"")


def _line(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode() + b"\n"


def katex_assets() -> Iterator[tuple[str, bytes]]:
    """(site path, bytes) of KaTeX's stylesheet and fonts.

    Only the WOFF2 fonts are shipped: the stylesheet lists them first and every
    browser the site targets reads WOFF2, so the WOFF/TTF copies would never load.
    """
    dist = katex_dist()
    yield "assets/katex/katex.min.css", (dist / "katex.min.css").read_bytes()
    for font in sorted((dist / "fonts").glob("*.woff2")):
        yield f"assets/katex/fonts/{font.name}", font.read_bytes()
