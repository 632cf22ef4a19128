#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
echo "No test files to reset"
git apply --verbose --reject - <<'EOF_114329324912'
diff --git a/test/specs/scale.linear.tests.js b/test/specs/scale.linear.tests.js
new file mode 100644
index 0000000..8601157
--- /dev/null
+++ b/test/specs/scale.linear.tests.js
@@ -0,0 +1 @@
+// a

EOF_114329324912
: '>>>>> Start Test Output'
pnpm install
pnpm run build
xvfb-run --server-args="-screen 0 1280x1024x24 -ac :99" su chromeuser -c "./node_modules/.bin/cross-env NODE_ENV=test ./node_modules/.bin/karma start ./karma.conf.cjs --single-run --coverage --grep --auto-watch false"
: '>>>>> End Test Output'
echo "No test files to reset"
