#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git checkout fed4fea217abbc502f2e823465de903c8f2b623d tests/regression.rs
git apply --verbose --reject - <<'EOF_114329324912'
diff --git a/tests/regression.rs b/tests/regression.rs
index 8601157..67654f2 100644
--- a/tests/regression.rs
+++ b/tests/regression.rs
@@ -1 +1 @@
-// a
+// b

EOF_114329324912
: '>>>>> Start Test Output'
RUSTFLAGS=-Awarnings cargo test --package ripgrep --test integration -- regression
: '>>>>> End Test Output'
git checkout fed4fea217abbc502f2e823465de903c8f2b623d tests/regression.rs
