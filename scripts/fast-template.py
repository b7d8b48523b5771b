#!/usr/bin/env python3
"""Rewrites template.yaml for prebuilt functions: each function's `Metadata` (the per-function
`rust-cargolambda` build) goes, and its `CodeUri` becomes the directory `cargo lambda build`
left its `bootstrap` in. Everything else (routes, policies, the table, parameters) is kept
byte for byte, so the fast path deploys exactly what `sam build` would.

usage: fast-template.py TEMPLATE LAMBDA_DIR OUTPUT
"""

import os
import re
import sys


def rewrite(text: str, lambda_dir: str, output_dir: str) -> str:
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        # The shared CodeUri of Globals: each function gets its own below.
        if line == "    CodeUri: .":
            i += 1
            continue
        if line == "    Metadata:":
            block = []
            i += 1
            while i < len(lines) and lines[i].startswith("      "):
                block.append(lines[i])
                i += 1
            binary = next(
                (m.group(1) for b in block if (m := re.match(r"\s+Binary: (\S+)$", b))), None
            )
            if binary is None:
                raise SystemExit("a function's Metadata names no Binary")
            if i >= len(lines) or lines[i] != "    Properties:":
                raise SystemExit(f"{binary}: Metadata not followed by Properties")
            out.append(lines[i])
            code = os.path.relpath(os.path.join(lambda_dir, binary), output_dir)
            out.append(f"      CodeUri: {code}/")
            i += 1
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def main() -> None:
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    template, lambda_dir, output = sys.argv[1:]
    with open(template, encoding="utf-8") as f:
        text = f.read()
    result = rewrite(text, os.path.abspath(lambda_dir), os.path.dirname(os.path.abspath(output)))
    with open(output, "w", encoding="utf-8") as f:
        f.write(result)


if __name__ == "__main__":
    main()
