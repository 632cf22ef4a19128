#!/bin/bash
set -uxo pipefail
source /opt/miniconda3/bin/activate
conda activate testbed
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git status
git show
git -c core.fileMode=false diff 2051e30b9b596e944524ccb787ed20f9f5be93e3
source /opt/miniconda3/bin/activate
conda activate testbed
python -m pip install -e .
git checkout 2051e30b9b596e944524ccb787ed20f9f5be93e3 testing/logging/test_reporting.py
git apply -v - <<'EOF_114329324912'
diff --git a/testing/logging/test_reporting.py b/testing/logging/test_reporting.py
index d2fc4d2..dcb4a05 100644
--- a/testing/logging/test_reporting.py
+++ b/testing/logging/test_reporting.py
@@ -3,3 +3,7 @@ import pytest
 
 def test_existing():
     assert 1 + 1 == 2
+
+
+def test_new_behaviour():
+    assert sorted([3, 1, 2]) == [1, 2, 3]

EOF_114329324912
: '>>>>> Start Test Output'
pytest -rA testing/logging/test_reporting.py
: '>>>>> End Test Output'
git checkout 2051e30b9b596e944524ccb787ed20f9f5be93e3 testing/logging/test_reporting.py
