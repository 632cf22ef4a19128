#!/bin/bash
set -uxo pipefail
source /opt/miniconda3/bin/activate
conda activate testbed
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git status
git show
git -c core.fileMode=false diff c76af9ed6bb89bfba45b9f5bc1e635188278e2fa
source /opt/miniconda3/bin/activate
conda activate testbed
python -m pip install -e .[test] --verbose
git checkout c76af9ed6bb89bfba45b9f5bc1e635188278e2fa astropy/io/fits/tests/test_checksum.py astropy/io/fits/tests/test_table.py
git apply -v - <<'EOF_114329324912'
diff --git a/astropy/io/fits/tests/test_checksum.py b/astropy/io/fits/tests/test_checksum.py
index d2fc4d2..dcb4a05 100644
--- a/astropy/io/fits/tests/test_checksum.py
+++ b/astropy/io/fits/tests/test_checksum.py
@@ -3,3 +3,7 @@ import pytest
 
 def test_existing():
     assert 1 + 1 == 2
+
+
+def test_new_behaviour():
+    assert sorted([3, 1, 2]) == [1, 2, 3]
diff --git a/astropy/io/fits/tests/test_table.py b/astropy/io/fits/tests/test_table.py
index d2fc4d2..dcb4a05 100644
--- a/astropy/io/fits/tests/test_table.py
+++ b/astropy/io/fits/tests/test_table.py
@@ -3,3 +3,7 @@ import pytest
 
 def test_existing():
     assert 1 + 1 == 2
+
+
+def test_new_behaviour():
+    assert sorted([3, 1, 2]) == [1, 2, 3]

EOF_114329324912
: '>>>>> Start Test Output'
pytest -rA -vv -o console_output_style=classic --tb=no astropy/io/fits/tests/test_checksum.py astropy/io/fits/tests/test_table.py
SWEBENCH_TEST_EXIT_CODE=$?
: '>>>>> End Test Output'
echo ">>>>> Test Exit Code: $SWEBENCH_TEST_EXIT_CODE"
git checkout c76af9ed6bb89bfba45b9f5bc1e635188278e2fa astropy/io/fits/tests/test_checksum.py astropy/io/fits/tests/test_table.py
