#!/bin/bash
set -uxo pipefail
source /opt/miniconda3/bin/activate
conda activate testbed
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git status
git show
git -c core.fileMode=false diff 7f7a36478abe7dd1fa993b115d22606aa0e35e88
source /opt/miniconda3/bin/activate
conda activate testbed
python -m pip install -e .
git checkout 7f7a36478abe7dd1fa993b115d22606aa0e35e88 
git apply -v - <<'EOF_114329324912'
diff --git a/testing/test_new_only.py b/testing/test_new_only.py
new file mode 100644
index 0000000..dcb4a05
--- /dev/null
+++ b/testing/test_new_only.py
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
pytest -rA testing/test_new_only.py
: '>>>>> End Test Output'
git checkout 7f7a36478abe7dd1fa993b115d22606aa0e35e88 
