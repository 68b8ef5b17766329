#!/usr/bin/env python3
"""Figures on the shape of the code: the largest files, the longest
functions and the traits with the most methods, under crates/*/src.

Run from the repository root: python3 scripts/code_shape.py
"""
import pathlib
import re

FN = re.compile(r"^\s*(pub(\([a-z]+\))?\s+)?(async\s+)?fn\s+([A-Za-z0-9_]+)")
TRAIT = re.compile(r"^\s*(pub(\([a-z]+\))?\s+)?trait\s+([A-Za-z0-9_]+)")


def blank_strings(text):
    """The text with every string and char literal's contents blanked
    (newlines kept), so braces inside SQL or format strings do not count."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('"' + "".join(ch if ch == "\n" else " " for ch in text[i + 1 : j]) + '"')
            i = j + 1
        elif c == "'" and i + 2 < n and (text[i + 2] == "'" or (text[i + 1] == "\\" and "'" in text[i + 2 : i + 5])):
            j = text.index("'", i + 2 if text[i + 1] != "\\" else i + 3)
            out.append("'" + " " * (j - i - 1) + "'")
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def body_end(lines, start):
    """Index of the line closing the item that opens at `start` (brace count)."""
    depth = 0
    opened = False
    for i in range(start, len(lines)):
        code = re.sub(r'"(\\.|[^"\\])*"', '""', lines[i].split("//")[0])
        code = re.sub(r"'(\\.|[^'\\])'", "''", code)
        for ch in code:
            if ch == "{":
                depth += 1
                opened = True
            elif ch == "}":
                depth -= 1
        if opened and depth <= 0:
            return i
        if not opened and code.rstrip().endswith(";"):
            return None
    return None


files, fns, traits = [], [], []
for path in sorted(pathlib.Path("crates").glob("*/src/**/*.rs")):
    raw = path.read_text(encoding="utf-8")
    files.append((len(raw.splitlines()), str(path)))
    lines = blank_strings(raw).splitlines()
    for i, line in enumerate(lines):
        m = FN.match(line)
        if m:
            end = body_end(lines, i)
            if end is not None:
                fns.append((end - i + 1, f"{path}:{i + 1} {m.group(4)}"))
        t = TRAIT.match(line)
        if t:
            end = body_end(lines, i)
            if end is not None:
                n = sum(1 for l in lines[i + 1 : end] if FN.match(l))
                traits.append((n, f"{path}:{i + 1} {t.group(3)}"))

for title, rows in (("largest files (lines)", files), ("longest functions (lines)", fns), ("traits by methods", traits)):
    print(f"## {title}")
    for n, what in sorted(rows, reverse=True)[:5]:
        print(f"{n:6}  {what}")
