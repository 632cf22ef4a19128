#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
rm -f test/transform/resource/after-delombok/BuilderOnNestedClass.java test/transform/resource/before/BuilderOnNestedClass.java
git apply --verbose --reject - <<'EOF_114329324912'
diff --git a/test/transform/resource/after-delombok/BuilderOnNestedClass.java b/test/transform/resource/after-delombok/BuilderOnNestedClass.java
new file mode 100644
index 0000000..a869c28
--- /dev/null
+++ b/test/transform/resource/after-delombok/BuilderOnNestedClass.java
@@ -0,0 +1 @@
+class A {}
diff --git a/test/transform/resource/before/BuilderOnNestedClass.java b/test/transform/resource/before/BuilderOnNestedClass.java
new file mode 100644
index 0000000..a869c28
--- /dev/null
+++ b/test/transform/resource/before/BuilderOnNestedClass.java
@@ -0,0 +1 @@
+class A {}

EOF_114329324912
ant test.compile
: '>>>>> Start Test Output'
ant test.instance
: '>>>>> End Test Output'
rm -f test/transform/resource/after-delombok/BuilderOnNestedClass.java test/transform/resource/before/BuilderOnNestedClass.java
