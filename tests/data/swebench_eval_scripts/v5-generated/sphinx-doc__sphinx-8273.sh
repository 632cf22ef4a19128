#!/bin/bash
set -uxo pipefail
source /opt/miniconda3/bin/activate
conda activate testbed
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git status
git show
git -c core.fileMode=false diff 88b81a06eb635a1596617f8971fa97a84c069e93
source /opt/miniconda3/bin/activate
conda activate testbed
python -m pip install -e .[test]
git checkout 88b81a06eb635a1596617f8971fa97a84c069e93 tests/test_build_manpage.py
git apply -v - <<'EOF_114329324912'
diff --git a/tests/test_build_manpage.py b/tests/test_build_manpage.py
index d2fc4d2..dcb4a05 100644
--- a/tests/test_build_manpage.py
+++ b/tests/test_build_manpage.py
@@ -3,3 +3,7 @@ import pytest
 
 def test_existing():
     assert 1 + 1 == 2
+
+
+def test_new_behaviour():
+    assert sorted([3, 1, 2]) == [1, 2, 3]

EOF_114329324912
: '>>>>> Start Test Output'
tox --current-env -epy39 -v -- tests/test_build_manpage.py
SWEBENCH_TEST_EXIT_CODE=$?
: '>>>>> End Test Output'
echo ">>>>> Test Exit Code: $SWEBENCH_TEST_EXIT_CODE"
git checkout 88b81a06eb635a1596617f8971fa97a84c069e93 tests/test_build_manpage.py
