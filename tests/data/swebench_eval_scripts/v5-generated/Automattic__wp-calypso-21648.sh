#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git checkout 4444444444444444444444444444444444444444 client/state/selectors/test/__snapshots__/index.js.snap client/state/selectors/test/index.js
git apply --verbose --reject - <<'EOF_114329324912'
diff --git a/client/state/selectors/test/__snapshots__/index.js.snap b/client/state/selectors/test/__snapshots__/index.js.snap
index 8601157..67654f2 100644
--- a/client/state/selectors/test/__snapshots__/index.js.snap
+++ b/client/state/selectors/test/__snapshots__/index.js.snap
@@ -1 +1 @@
-// a
+// b
diff --git a/client/state/selectors/test/index.js b/client/state/selectors/test/index.js
index 8601157..67654f2 100644
--- a/client/state/selectors/test/index.js
+++ b/client/state/selectors/test/index.js
@@ -1 +1 @@
-// a
+// b

EOF_114329324912
: '>>>>> Start Test Output'
./node_modules/.bin/jest --verbose -c=test/client/jest.config.js 'client/state/selectors/test'
./node_modules/.bin/jest --verbose -c=test/client/jest.config.js 'client/state/selectors/test/index.js'
SWEBENCH_TEST_EXIT_CODE=$?
: '>>>>> End Test Output'
echo ">>>>> Test Exit Code: $SWEBENCH_TEST_EXIT_CODE"
git checkout 4444444444444444444444444444444444444444 client/state/selectors/test/__snapshots__/index.js.snap client/state/selectors/test/index.js
