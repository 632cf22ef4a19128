#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git checkout 6666666666666666666666666666666666666666 client/lib/url/test/index.js
git apply --verbose --reject - <<'EOF_114329324912'
diff --git a/client/lib/url/test/index.js b/client/lib/url/test/index.js
index 8601157..67654f2 100644
--- a/client/lib/url/test/index.js
+++ b/client/lib/url/test/index.js
@@ -1 +1 @@
-// a
+// b

EOF_114329324912
: '>>>>> Start Test Output'
npm run test-client --verbose 'client/lib/url/test/index.js'
SWEBENCH_TEST_EXIT_CODE=$?
: '>>>>> End Test Output'
echo ">>>>> Test Exit Code: $SWEBENCH_TEST_EXIT_CODE"
git checkout 6666666666666666666666666666666666666666 client/lib/url/test/index.js
