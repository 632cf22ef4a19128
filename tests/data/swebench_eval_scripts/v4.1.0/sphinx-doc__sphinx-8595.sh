#!/bin/bash
set -uxo pipefail
source /opt/miniconda3/bin/activate
conda activate testbed
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git status
git show
git -c core.fileMode=false diff b19bce971e82f2497d67fdacdeca8db08ae0ba56
source /opt/miniconda3/bin/activate
conda activate testbed
python -m pip install -e .[test]
git checkout b19bce971e82f2497d67fdacdeca8db08ae0ba56 
git apply -v - <<'EOF_114329324912'
diff --git a/tests/roots/test-ext-autodoc/target/empty_all.py b/tests/roots/test-ext-autodoc/target/empty_all.py
new file mode 100644
index 0000000..8058be6
--- /dev/null
+++ b/tests/roots/test-ext-autodoc/target/empty_all.py
@@ -0,0 +1,2 @@
+"""docsting of empty_all module."""
+__all__ = []
diff --git a/tests/test_ext_autodoc_automodule.py b/tests/test_ext_autodoc_automodule.py
new file mode 100644
index 0000000..dcb4a05
--- /dev/null
+++ b/tests/test_ext_autodoc_automodule.py
@@ -0,0 +1,9 @@
+import pytest
+
+
+def test_existing():
+    assert 1 + 1 == 2
+
+
+def test_new_behaviour():
+    assert sorted([3, 1, 2]) == [1, 2, 3]

EOF_114329324912
: '>>>>> Start Test Output'
tox --current-env -epy39 -v -- tests/roots/test-ext-autodoc/target/empty_all.py tests/test_ext_autodoc_automodule.py
: '>>>>> End Test Output'
git checkout b19bce971e82f2497d67fdacdeca8db08ae0ba56 
