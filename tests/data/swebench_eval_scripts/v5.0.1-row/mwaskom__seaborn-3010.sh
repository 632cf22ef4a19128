#!/bin/bash
set -uxo pipefail
source /opt/miniconda3/bin/activate
conda activate testbed
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git status
git show
git -c core.fileMode=false diff 0f5a013e2cf43562deec3b879458e59a73853813
source /opt/miniconda3/bin/activate
conda activate testbed
python -m pip install -e .[dev]
git checkout 0f5a013e2cf43562deec3b879458e59a73853813 tests/_stats/test_regression.py
git apply -v - <<'EOF_114329324912'
diff --git a/tests/_stats/test_regression.py b/tests/_stats/test_regression.py
index d2fc4d2..dcb4a05 100644
--- a/tests/_stats/test_regression.py
+++ b/tests/_stats/test_regression.py
@@ -3,3 +3,7 @@ import pytest
 
 def test_existing():
     assert 1 + 1 == 2
+
+
+def test_new_behaviour():
+    assert sorted([3, 1, 2]) == [1, 2, 3]

EOF_114329324912
: '>>>>> Start Test Output'
pytest --no-header -rA tests/_stats/test_regression.py
SWEBENCH_TEST_EXIT_CODE=$?
: '>>>>> End Test Output'
echo ">>>>> Test Exit Code: $SWEBENCH_TEST_EXIT_CODE"
git checkout 0f5a013e2cf43562deec3b879458e59a73853813 tests/_stats/test_regression.py
