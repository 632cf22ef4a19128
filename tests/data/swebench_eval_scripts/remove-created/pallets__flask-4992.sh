#!/bin/bash
set -uxo pipefail
source /opt/miniconda3/bin/activate
conda activate testbed
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git status
git show
git -c core.fileMode=false diff 4c288bc97ea371817199908d0d9b12de9dae327e
source /opt/miniconda3/bin/activate
conda activate testbed
python -m pip install -e .
git checkout 4c288bc97ea371817199908d0d9b12de9dae327e tests/static/config.toml tests/test_config.py
git apply -v - <<'EOF_114329324912'
diff --git a/tests/static/config.toml b/tests/static/config.toml
index 1337a53..e7cabca 100644
--- a/tests/static/config.toml
+++ b/tests/static/config.toml
@@ -1 +1 @@
-a = 1
+a = 2
diff --git a/tests/test_config.py b/tests/test_config.py
index d2fc4d2..dcb4a05 100644
--- a/tests/test_config.py
+++ b/tests/test_config.py
@@ -3,3 +3,7 @@ import pytest
 
 def test_existing():
     assert 1 + 1 == 2
+
+
+def test_new_behaviour():
+    assert sorted([3, 1, 2]) == [1, 2, 3]

EOF_114329324912
: '>>>>> Start Test Output'
pytest -rA tests/test_config.py
: '>>>>> End Test Output'
git checkout 4c288bc97ea371817199908d0d9b12de9dae327e tests/static/config.toml tests/test_config.py
