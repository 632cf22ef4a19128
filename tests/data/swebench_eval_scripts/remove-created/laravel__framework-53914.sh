#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git checkout 37d48c45e0e8c5d6e8b7bd8c6fb22f0f5fbd9123 tests/Database/DatabaseConnectionTest.php
git apply --verbose --reject - <<'EOF_114329324912'
diff --git a/tests/Database/DatabaseConnectionTest.php b/tests/Database/DatabaseConnectionTest.php
index b3d9bbc..65279ee 100644
--- a/tests/Database/DatabaseConnectionTest.php
+++ b/tests/Database/DatabaseConnectionTest.php
@@ -1 +1,2 @@
 <?php
+// t

EOF_114329324912
: '>>>>> Start Test Output'
vendor/bin/phpunit --testdox --colors=never tests/Integration/Database/DatabaseConnectionsTest.php
: '>>>>> End Test Output'
git checkout 37d48c45e0e8c5d6e8b7bd8c6fb22f0f5fbd9123 tests/Database/DatabaseConnectionTest.php
