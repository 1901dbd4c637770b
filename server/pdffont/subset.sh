#!/usr/bin/env bash
# Rebuilds droid-sans-fallback-gb2312.ttf, the CJK font built into fieldsync for PDF reports, from
# Debian's Droid Sans Fallback (package fonts-droid-fallback, Apache 2.0): its glyphs for the 6,763
# hanzi and the symbols of GB 2312, plus every other CJK character that fieldsync's own Go sources
# print (demo names, labels). Run through `make pdf-font`; needs `apt-get install python3-fonttools
# fonts-droid-fallback`. The same source font and fontTools version give the same bytes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
src=${1:-/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf}
py=/usr/bin/python3
if [ ! -f "$src" ]; then
  echo "no source font $src: apt-get install fonts-droid-fallback" >&2; exit 1
fi
if ! "$py" -c 'import fontTools' 2>/dev/null; then
  echo "fontTools missing: apt-get install python3-fonttools" >&2; exit 1
fi
"$py" - "$root" > "$here/chars.txt" <<'PY'
import os, sys, re
chars = set()
# GB 2312: rows 1-9 (symbols, full-width forms) and 16-87 (the 6,763 hanzi).
for hi in list(range(0xA1, 0xAA)) + list(range(0xB0, 0xF8)):
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
cjk = re.compile(r"[\u2E80-\u9FFF\uF900-\uFAFF\uFF00-\uFFEF\u3000-\u303F]")
for d, _, files in os.walk(sys.argv[1]):
    if "/." in d or "node_modules" in d or "/testdata" in d:
        continue
    for f in files:
        if f.endswith(".go") and not f.endswith("_test.go"):
            with open(os.path.join(d, f), encoding="utf-8") as fh:
                chars.update(cjk.findall(fh.read()))
print("".join(sorted(c for c in chars if ord(c) >= 0x2000)))
PY
# fontTools stamps head.modified with the time of the run unless SOURCE_DATE_EPOCH says otherwise.
SOURCE_DATE_EPOCH=1455321600 "$py" -m fontTools.subset "$src" --text-file="$here/chars.txt" --output-file="$here/droid-sans-fallback-gb2312.ttf" \
  --layout-features='' --no-hinting --name-IDs='*' --notdef-outline
sha256sum "$src" "$here/droid-sans-fallback-gb2312.ttf"
