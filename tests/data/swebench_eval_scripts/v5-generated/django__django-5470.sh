#!/bin/bash
set -uxo pipefail
source /opt/miniconda3/bin/activate
conda activate testbed
cd /testbed
export LANG=en_US.UTF-8
export LC_ALL=en_US.UTF-8
export PYTHONIOENCODING=utf8
export LANGUAGE=en_US:en
git config --global --add safe.directory /testbed
cd /testbed
git status
git show
git -c core.fileMode=false diff 9dcfecb7c6c8285630ad271888a9ec4ba9140e3a
source /opt/miniconda3/bin/activate
conda activate testbed
python setup.py install
git checkout 9dcfecb7c6c8285630ad271888a9ec4ba9140e3a tests/admin_views/tests.py
git apply -v - <<'EOF_114329324912'
diff --git a/tests/admin_views/tests.py b/tests/admin_views/tests.py
index d2fc4d2..dcb4a05 100644
--- a/tests/admin_views/tests.py
+++ b/tests/admin_views/tests.py
@@ -3,3 +3,7 @@ import pytest
 
 def test_existing():
     assert 1 + 1 == 2
+
+
+def test_new_behaviour():
+    assert sorted([3, 1, 2]) == [1, 2, 3]

EOF_114329324912
: '>>>>> Start Test Output'
./tests/runtests.py --verbosity 2 admin_views.tests
SWEBENCH_TEST_EXIT_CODE=$?
: '>>>>> End Test Output'
echo ">>>>> Test Exit Code: $SWEBENCH_TEST_EXIT_CODE"
git checkout 9dcfecb7c6c8285630ad271888a9ec4ba9140e3a tests/admin_views/tests.py
