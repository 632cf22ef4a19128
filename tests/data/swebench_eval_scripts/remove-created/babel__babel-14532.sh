#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git checkout fbd065256ca00d68089293ad48ea9aeba5481914 packages/babel-generator/test/index.js
git apply --verbose --reject - <<'EOF_114329324912'
diff --git a/packages/babel-generator/test/index.js b/packages/babel-generator/test/index.js
index 8601157..67654f2 100644
--- a/packages/babel-generator/test/index.js
+++ b/packages/babel-generator/test/index.js
@@ -1 +1 @@
-// a
+// b

EOF_114329324912
make build
: '>>>>> Start Test Output'
yarn jest babel-generator --verbose
: '>>>>> End Test Output'
git checkout fbd065256ca00d68089293ad48ea9aeba5481914 packages/babel-generator/test/index.js
