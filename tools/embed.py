#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Turn a text file into a C string definition: embed.py IN OUT SYMBOL."""
import sys

src, out, sym = sys.argv[1:4]
data = open(src, "rb").read()
with open(out, "w") as f:
    f.write(f"/* generated from {src.split('/')[-1]} by tools/embed.py */\n")
    f.write(f"const char {sym}[] =\n")
    for line in data.decode().splitlines(keepends=True):
        f.write('\t"' + line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"\n')
    f.write(";\n")
