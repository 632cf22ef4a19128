#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git checkout 7777777777777777777777777777777777777777 test/unit/visual/cases/shapes.js
mkdir -p test/unit/visual/screenshots/Shapes/Draws a circle
curl -o test/unit/visual/screenshots/Shapes/Draws a circle/000.png https://example.com/000.png
chmod 777 test/unit/visual/screenshots/Shapes/Draws a circle/000.png
mkdir -p .
curl -o metadata.json https://example.com/metadata.json
chmod 777 metadata.json
git apply --verbose --reject - <<'EOF_114329324912'
diff --git a/test/unit/visual/cases/shapes.js b/test/unit/visual/cases/shapes.js
index 8601157..67654f2 100644
--- a/test/unit/visual/cases/shapes.js
+++ b/test/unit/visual/cases/shapes.js
@@ -1 +1 @@
-// a
+// b

EOF_114329324912
: '>>>>> Start Test Output'
sed -i 's/concurrency:[[:space:]]*[0-9][0-9]*/concurrency: 1/g' Gruntfile.js
stdbuf -o 1M ./node_modules/.bin/grunt test --quiet --force
SWEBENCH_TEST_EXIT_CODE=$?
: '>>>>> End Test Output'
echo ">>>>> Test Exit Code: $SWEBENCH_TEST_EXIT_CODE"
git checkout 7777777777777777777777777777777777777777 test/unit/visual/cases/shapes.js
