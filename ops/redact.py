"""Log-line redaction: no secret value reaches `make run`'s request log.

A secret may be spelled many ways in what a client sends: `secret=`,
`SECRET=`, `%73ecret=` (what the server decodes as `secret`), doubly
encoded, `secret%3D`, in the query, in the path (`/x;secret=...`) or, in an
error message that quotes a JSON body, `"secret": "..."`. The name is
matched on the percent-decoded text, any case; the value is cut out of the
line as it was written, up to the next delimiter, so nothing of it is left
in any encoding. Control characters are escaped, so a request line cannot
forge or hide log lines.
"""
from __future__ import annotations

import re

REDACTED = "[redacted]"
_NAME = re.compile(r"""secret["']?\s*[=:]""", re.IGNORECASE)
# Where a value ends, in the line as written (an encoded delimiter is not one:
# cutting further is the safe side).
_VALUE_END = re.compile(r"""[&;,\s"'#}]""")
_HEX = frozenset("0123456789abcdefABCDEF")
_DECODE_ROUNDS = 4
_CONTROL = {code: f"\\x{code:02x}" for code in [*range(0x20), *range(0x7F, 0xA0)]}


def _decoded_once(text: str, spans: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """Percent-decode each `%XX` to one character, keeping where each came from."""
    out: list[str] = []
    out_spans: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        if text[i] == "%" and i + 2 < len(text) and text[i + 1] in _HEX and text[i + 2] in _HEX:
            out.append(chr(int(text[i + 1:i + 3], 16)))
            out_spans.append((spans[i][0], spans[i + 2][1]))
            i += 3
        else:
            out.append(text[i])
            out_spans.append(spans[i])
            i += 1
    return "".join(out), out_spans


def _secret_values(line: str) -> list[tuple[int, int]]:
    """Ranges of `line` that hold the value of a parameter named secret."""
    text, spans = line, [(i, i + 1) for i in range(len(line))]
    ranges: list[tuple[int, int]] = []
    for _ in range(_DECODE_ROUNDS):
        for match in _NAME.finditer(text):
            start = spans[match.end() - 1][1]
            while start < len(line) and line[start] in " \t\"'":
                start += 1
            end_match = _VALUE_END.search(line, start)
            ranges.append((start, end_match.start() if end_match else len(line)))
        decoded, spans = _decoded_once(text, spans)
        if decoded == text:
            break
        text = decoded
    return ranges


def redact(line: str) -> str:
    """`line` without any secret value and with control characters escaped."""
    merged: list[list[int]] = []
    for start, end in sorted(_secret_values(line)):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        elif end > start:
            merged.append([start, end])
    out = line
    for start, end in reversed(merged):
        out = out[:start] + REDACTED + out[end:]
    return out.translate(_CONTROL)
