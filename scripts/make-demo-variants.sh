#!/usr/bin/env bash
# Writes a dataset of N copies of a dataset's first row, with distinct
# instance ids (<id>-v01 .. <id>-vNN), for evaluation at scale on one image:
#
#   scripts/make-demo-variants.sh [SRC.jsonl] [N] [OUT.jsonl]
#
# Defaults: examples/tasks/demo-swebench.jsonl, 20,
# examples/tasks/demo-swebench-20.jsonl. Rerun it after
# scripts/build-test-images.sh rewrites the source row.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
src=${1:-examples/tasks/demo-swebench.jsonl}
n=${2:-20}
out=${3:-examples/tasks/demo-swebench-20.jsonl}
python3 - "$src" "$n" "$out" <<'PY'
import json, sys

src, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(src) as f:
    line = next(l for l in f if l.strip())
row = json.loads(line)
base = row["instance_id"]
width = max(2, len(str(n)))
with open(out, "w") as f:
    for i in range(1, n + 1):
        variant = dict(row)
        variant["instance_id"] = "%s-v%0*d" % (base, width, i)
        f.write(json.dumps(variant, ensure_ascii=False) + "\n")
sys.stderr.write("make-demo-variants: wrote %d rows to %s\n" % (n, out))
PY
