#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git checkout 5555555555555555555555555555555555555555 packages/components/src/test/button.js test/e2e/specs/wp-log-in-out-spec.js
git apply --verbose --reject - <<'EOF_114329324912'
diff --git a/packages/components/src/test/button.js b/packages/components/src/test/button.js
index 8601157..67654f2 100644
--- a/packages/components/src/test/button.js
+++ b/packages/components/src/test/button.js
@@ -1 +1 @@
-// a
+// b
diff --git a/test/e2e/specs/wp-log-in-out-spec.js b/test/e2e/specs/wp-log-in-out-spec.js
index 8601157..67654f2 100644
--- a/test/e2e/specs/wp-log-in-out-spec.js
+++ b/test/e2e/specs/wp-log-in-out-spec.js
@@ -1 +1 @@
-// a
+// b

EOF_114329324912
: '>>>>> Start Test Output'
./node_modules/.bin/jest --verbose -c=test/packages/jest.config.json 'packages/components/src/test/button.js'
cd test/e2e
NODE_CONFIG_ENV=test npm run test test/e2e/specs/wp-log-in-out-spec.js
cd ../..
: '>>>>> End Test Output'
git checkout 5555555555555555555555555555555555555555 packages/components/src/test/button.js test/e2e/specs/wp-log-in-out-spec.js
