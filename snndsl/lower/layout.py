"""Line breaking for the emitted module: every line within :data:`WIDTH` characters, laid out by hand style.

``ast.unparse`` writes each statement on one line. A statement that does not fit is broken inside its
brackets, the continuation aligned with the opening bracket and filled (as in this package's own source)::

    self.V = bs.HiddenState(_state(self.V_init if self.V_init is not None else 0.0 * u.mV,
                                   self.size, batch_size))

or, when the bracket is too far right for that, with a hanging indent. Inside brackets a long operand is
broken before its loosest operators (``if``/``else``, ``or``, ``and``, comparisons, ``+``/``-``...). Only
token boundaries inside brackets are broken, and every broken statement is parsed back and compared with the
original: layout never changes what the code means.
"""

from __future__ import annotations

import ast
import functools
import io
import textwrap
import tokenize

#: The longest line the emitted module has (characters).
WIDTH = 99

_OPEN, _CLOSE = "([{", ")]}"
#: Operators a long operand inside brackets is broken before, loosest first.
_PRIORITY = [{"if", "else"}, {"or"}, {"and"}, {"<", ">", "==", ">=", "<=", "!=", "in", "is"},
             {"|"}, {"^"}, {"&"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "//", "%", "@"}]
_VALUE_END = {tokenize.NAME, tokenize.NUMBER, tokenize.STRING}
_KEYWORDS = {"if", "else", "or", "and", "not", "in", "is", "return", "lambda", "for", "yield", "await"}


def statement(code: str, col: int, comment: str = "") -> list[str]:
    """One statement (or ``def ...:``/``class ...:`` header) at indentation ``col`` → its lines, with the
    source ``comment`` after the first line, or above the statement when it would not fit there (filled
    over several comment lines when it does not fit on one)."""
    pad = " " * col
    tail = f"  # {comment}" if comment else ""
    if col + len(code) + len(tail) <= WIDTH or "\n" in code:
        return [pad + code + tail]
    lines = _break(code, col, bracketed=False) if col + len(code) > WIDTH else [code]
    lines[0] = pad + lines[0]
    _check(code, lines, col)
    if not tail:
        return lines
    if len(lines) > 1 and len(lines[0]) + len(tail) <= WIDTH:
        return [lines[0] + tail] + lines[1:]
    above = textwrap.wrap(comment, WIDTH - col - 2, break_long_words=False, break_on_hyphens=False)
    return [pad + "# " + c for c in above] + lines


def docstring(text: str, col: int) -> list[str]:
    """A docstring at indentation ``col``: paragraphs (separated by blank lines) are filled to the width;
    lines indented by four spaces (equations) are kept, continued on a further indented line when too long.
    One line when it fits, else the closing quotes on their own line."""
    pad = " " * col
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    out: list[str] = []
    for i, para in enumerate(text.split("\n\n")):
        first = '"""' if i == 0 else ""
        rows = para.split("\n")
        if all(r.startswith("    ") for r in rows):
            for r in rows:
                lead = r[:len(r) - len(r.lstrip())]
                out += textwrap.wrap(r.strip(), WIDTH - col, initial_indent=first + lead,
                                     subsequent_indent=lead + "    ", break_long_words=False,
                                     break_on_hyphens=False)
                first = ""
        else:
            out += textwrap.wrap(" ".join(r.strip() for r in rows), WIDTH - col, initial_indent=first,
                                 break_long_words=False, break_on_hyphens=False)
        out.append("")
    out.pop()
    if len(out) == 1 and col + len(out[0]) + 3 <= WIDTH and not out[0].endswith('"'):
        return [pad + out[0] + '"""']
    return [pad + ln if ln else "" for ln in out] + [pad + '"""']


# ---------------------------------------------------------------- breaking one statement


def _fits(text: str, col: int, extra: int = 0) -> bool:
    """Whether ``text`` starting at column ``col``, followed by ``extra`` characters, ends within WIDTH."""
    return col + len(text) + extra <= WIDTH


def _tokens(code: str) -> list[tokenize.TokenInfo] | None:
    """The tokens of ``code`` on one line (layout tokens dropped), or ``None`` when it does not tokenize
    (e.g. unbalanced brackets in a fragment): the caller then leaves it as written."""
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    return [t for t in toks if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER,
                                              tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT)]


def _groups(toks: list[tokenize.TokenInfo]) -> list[tuple[int, int]]:
    """Character offsets ``(open, close)`` of the outermost bracket pairs."""
    out, depth, start = [], 0, 0
    for t in toks:
        if t.type == tokenize.OP and t.string in _OPEN:
            if depth == 0:
                start = t.start[1]
            depth += 1
        elif t.type == tokenize.OP and t.string in _CLOSE:
            depth -= 1
            if depth == 0:
                out.append((start, t.start[1]))
    return out


def _top_level(toks: list[tokenize.TokenInfo]):
    """``(index, token)`` of the tokens outside every bracket."""
    depth = 0
    for i, t in enumerate(toks):
        if t.type == tokenize.OP and t.string in _CLOSE:
            depth -= 1
        if depth == 0:
            yield i, t
        if t.type == tokenize.OP and t.string in _OPEN:
            depth += 1


def _items(body: str) -> list[str]:
    """``body`` split at its top-level commas (a trailing comma stays on the last item)."""
    toks = _tokens(body)
    cuts = [t.start[1] for _, t in _top_level(toks) if t.type == tokenize.OP and t.string == ","]
    items, start = [], 0
    for c in cuts:
        items.append(body[start:c + 1].strip())
        start = c + 1
    rest = body[start:].strip()
    if rest:                        # else a trailing comma, `(x,)`: it stays on the last item
        items.append(rest)
    return items


def _break(code: str, col: int, bracketed: bool, extra: int = 0, hang: bool = True) -> list[str]:
    """:func:`_broken` as a list (the cached tuple copied, so callers may edit it)."""
    return list(_broken(code, col, bracketed, extra, hang))


@functools.lru_cache(maxsize=4096)
def _broken(code: str, col: int, bracketed: bool, extra: int, hang: bool) -> tuple[str, ...]:
    """``code`` (balanced, one line) starting at column ``col`` → lines, the first without indentation, the
    others with theirs; ``extra`` characters follow the last line. ``bracketed``: ``code`` lies inside
    brackets, so it may also break before an operator. Aligned continuations are tried first, everywhere
    inside, then a hanging indent (``hang``). As written when nothing fits."""
    if _fits(code, col, extra):
        return (code,)
    toks = _tokens(code)
    if toks is None:
        return (code,)
    if bracketed:
        lines = _at_operators(code, toks, col, extra, hang)
        if lines:
            return tuple(lines)
    for hanging in (False, True) if hang else (False,):
        for o, c in _groups(toks):
            head, body, tail = code[:o + 1], code[o + 1:c].strip(), code[c:]
            if not body:
                continue
            if not _fits(head, col):
                break
            if hanging:
                inner = _fill(_items(body), col + 4, 0, hang=True)
                if inner is not None and _fits(tail, col, extra):
                    return (head, " " * (col + 4) + inner[0], *inner[1:], " " * col + tail)
            else:
                inner = _fill(_items(body), col + len(head), len(tail) + extra, hang=False)
                if inner is not None:
                    inner[-1] += tail
                    return (head + inner[0], *inner[1:])
    return (code,)


def _fill(pieces: list[str], col: int, extra: int, hang: bool, sep: str = " ") -> list[str] | None:
    """``pieces`` filled into lines starting at column ``col``, joined by ``sep`` within a line (the first
    line without indentation, the others with it); ``extra`` characters follow the last piece. ``None`` when
    one does not fit even broken."""
    pad = " " * col
    lines: list[str] = []           # the first relative to col, the others absolute
    cur = None

    def put(text: str) -> None:
        lines.append(text if not lines else pad + text)

    for i, piece in enumerate(pieces):
        need = extra if i == len(pieces) - 1 else 0
        if cur is not None and _fits(cur + sep + piece, col, need):
            cur += sep + piece
            continue
        if cur is not None:
            put(cur)
            cur = None
        if _fits(piece, col, need):
            cur = piece
            continue
        broken = _break(piece, col, bracketed=True, extra=need, hang=hang)
        if not (_fits(broken[0], col, need if len(broken) == 1 else 0)
                and all(_fits(ln, 0) for ln in broken[1:-1])
                and (len(broken) == 1 or _fits(broken[-1], 0, need))):
            return None
        put(broken[0])
        lines.extend(broken[1:])
    if cur is not None:
        put(cur)
    return lines


def _at_operators(code: str, toks: list[tokenize.TokenInfo], col: int, extra: int,
                  hang: bool) -> list[str] | None:
    """``code`` broken before its loosest top-level operators (it lies inside brackets), filled.

    The priority levels of :data:`_PRIORITY` are tried loosest first; the first level present at the top
    level cuts ``code`` into pieces, each starting with its operator, filled into lines by :func:`_fill`. A
    ``+``/``-`` after an operator or ``(`` is a sign and never cut; ``not in`` is cut before ``not``. Code
    with a top-level ``lambda`` or comprehension ``for`` is left to the bracket breaking. ``None`` when
    nothing fits.
    """
    top = list(_top_level(toks))
    if any(t.type == tokenize.NAME and t.string in ("lambda", "for") for _, t in top):
        return None
    for ops in _PRIORITY:
        cuts = []
        for i, t in top:
            if t.string not in ops or i == 0 or t.type not in (tokenize.OP, tokenize.NAME):
                continue
            prev = toks[i - 1]
            if t.string in ("+", "-") and not (prev.type in _VALUE_END and prev.string not in _KEYWORDS
                                               or prev.string in _CLOSE):
                continue                # a sign, not a binary operator
            if t.string == "in" and prev.string == "not":
                cuts.append(prev.start[1])
                continue
            cuts.append(t.start[1])
        if cuts:
            bounds = [0, *cuts, len(code)]
            pieces = [code[a:b].strip() for a, b in zip(bounds, bounds[1:])]
            return _fill(pieces, col, extra, hang)
    return None


def _check(code: str, lines: list[str], col: int) -> None:
    """The broken statement must parse to the same tree as the one-line one."""
    if len(lines) == 1:
        return
    suffix = " pass" if code.endswith(":") else ""
    text = "\n".join(ln[col:] for ln in lines)
    if ast.dump(ast.parse(text + suffix)) != ast.dump(ast.parse(code + suffix)):
        raise AssertionError(f"line breaking changed {code!r}")
