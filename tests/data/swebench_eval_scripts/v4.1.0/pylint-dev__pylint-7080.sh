#!/bin/bash
set -uxo pipefail
source /opt/miniconda3/bin/activate
conda activate testbed
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git status
git show
git -c core.fileMode=false diff 3c5eca2ded3dd2b59ebaf23eb289453b5d2930f0
source /opt/miniconda3/bin/activate
conda activate testbed
python -m pip install -e .
git checkout 3c5eca2ded3dd2b59ebaf23eb289453b5d2930f0 tests/test_self.py
git apply -v - <<'EOF_114329324912'
diff --git a/tests/regrtest_data/directory/ignored_subdirectory/failing.py b/tests/regrtest_data/directory/ignored_subdirectory/failing.py
new file mode 100644
index 0000000..b199df5
--- /dev/null
+++ b/tests/regrtest_data/directory/ignored_subdirectory/failing.py
@@ -0,0 +1 @@
+import re
diff --git a/tests/test_self.py b/tests/test_self.py
index d2fc4d2..dcb4a05 100644
--- a/tests/test_self.py
+++ b/tests/test_self.py
@@ -3,3 +3,7 @@ import pytest
 
 def test_existing():
     assert 1 + 1 == 2
+
+
+def test_new_behaviour():
+    assert sorted([3, 1, 2]) == [1, 2, 3]

EOF_114329324912
: '>>>>> Start Test Output'
pytest -rA tests/regrtest_data/directory/ignored_subdirectory/failing.py tests/test_self.py
: '>>>>> End Test Output'
git checkout 3c5eca2ded3dd2b59ebaf23eb289453b5d2930f0 tests/test_self.py
