#!/bin/bash
set -uxo pipefail
source /opt/miniconda3/bin/activate
conda activate testbed
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git status
git show
git -c core.fileMode=false diff 5eb6a2b33d70b9889e1cafa12594ad6f80773d3a
source /opt/miniconda3/bin/activate
conda activate testbed
python -m pip install -e .
git checkout 5eb6a2b33d70b9889e1cafa12594ad6f80773d3a tests/proxy_models/tests.py
git apply -v - <<'EOF_114329324912'
diff --git a/tests/proxy_models/tests.py b/tests/proxy_models/tests.py
index d2fc4d2..dcb4a05 100644
--- a/tests/proxy_models/tests.py
+++ b/tests/proxy_models/tests.py
@@ -3,3 +3,7 @@ import pytest
 
 def test_existing():
     assert 1 + 1 == 2
+
+
+def test_new_behaviour():
+    assert sorted([3, 1, 2]) == [1, 2, 3]

EOF_114329324912
: '>>>>> Start Test Output'
./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 proxy_models.tests
SWEBENCH_TEST_EXIT_CODE=$?
: '>>>>> End Test Output'
echo ">>>>> Test Exit Code: $SWEBENCH_TEST_EXIT_CODE"
git checkout 5eb6a2b33d70b9889e1cafa12594ad6f80773d3a tests/proxy_models/tests.py
