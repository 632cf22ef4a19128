#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git checkout 4979cf02ff83e90ced80db5111452a4c3e082c3a tests/unit/scripting.tcl
git apply --verbose --reject - <<'EOF_114329324912'
diff --git a/tests/unit/scripting.tcl b/tests/unit/scripting.tcl
index 822de96..14f30c4 100644
--- a/tests/unit/scripting.tcl
+++ b/tests/unit/scripting.tcl
@@ -1 +1 @@
-# a
+# b

EOF_114329324912
make distclean
make
: '>>>>> Start Test Output'
TERM=dumb ./runtest --durable --single unit/scripting
SWEBENCH_TEST_EXIT_CODE=$?
: '>>>>> End Test Output'
echo ">>>>> Test Exit Code: $SWEBENCH_TEST_EXIT_CODE"
git checkout 4979cf02ff83e90ced80db5111452a4c3e082c3a tests/unit/scripting.tcl
