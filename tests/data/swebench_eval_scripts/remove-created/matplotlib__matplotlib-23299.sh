#!/bin/bash
set -uxo pipefail
source /opt/miniconda3/bin/activate
conda activate testbed
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git status
git show
git -c core.fileMode=false diff 3eadeacc06c9f2ddcdac6ae39819faa9fbee9e39
source /opt/miniconda3/bin/activate
conda activate testbed
python -m pip install -e .
git checkout 3eadeacc06c9f2ddcdac6ae39819faa9fbee9e39 lib/matplotlib/tests/test_rcparams.py
rm -f lib/matplotlib/tests/baseline_images/test_axes/new_baseline.png
git apply -v - <<'EOF_114329324912'
diff --git a/lib/matplotlib/tests/baseline_images/test_axes/new_baseline.png b/lib/matplotlib/tests/baseline_images/test_axes/new_baseline.png
new file mode 100644
index 0000000..3913f3b
--- /dev/null
+++ b/lib/matplotlib/tests/baseline_images/test_axes/new_baseline.png
@@ -0,0 +1 @@
+PNG
diff --git a/lib/matplotlib/tests/test_rcparams.py b/lib/matplotlib/tests/test_rcparams.py
index d2fc4d2..dcb4a05 100644
--- a/lib/matplotlib/tests/test_rcparams.py
+++ b/lib/matplotlib/tests/test_rcparams.py
@@ -3,3 +3,7 @@ import pytest
 
 def test_existing():
     assert 1 + 1 == 2
+
+
+def test_new_behaviour():
+    assert sorted([3, 1, 2]) == [1, 2, 3]

EOF_114329324912
: '>>>>> Start Test Output'
pytest -rA lib/matplotlib/tests/test_rcparams.py
: '>>>>> End Test Output'
git checkout 3eadeacc06c9f2ddcdac6ae39819faa9fbee9e39 lib/matplotlib/tests/test_rcparams.py
rm -f lib/matplotlib/tests/baseline_images/test_axes/new_baseline.png
