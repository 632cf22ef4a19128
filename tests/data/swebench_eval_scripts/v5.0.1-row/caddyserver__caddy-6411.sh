#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git checkout 59cbb2c83a03b6fe352ae0b5d05581d9148a4d24 replacer_test.go
git apply --verbose --reject - <<'EOF_114329324912'
diff --git a/replacer_test.go b/replacer_test.go
index 52705a6..93177ec 100644
--- a/replacer_test.go
+++ b/replacer_test.go
@@ -1 +1,3 @@
 package caddy
+
+func TestReplacerNew(t *testing.T) {}

EOF_114329324912
: '>>>>> Start Test Output'
go test -v . -run "TestReplacerNew*"
SWEBENCH_TEST_EXIT_CODE=$?
: '>>>>> End Test Output'
echo ">>>>> Test Exit Code: $SWEBENCH_TEST_EXIT_CODE"
git checkout 59cbb2c83a03b6fe352ae0b5d05581d9148a4d24 replacer_test.go
