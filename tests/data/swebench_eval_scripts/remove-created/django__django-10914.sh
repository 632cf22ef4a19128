#!/bin/bash
set -uxo pipefail
source /opt/miniconda3/bin/activate
conda activate testbed
cd /testbed
sed -i '/en_US.UTF-8/s/^# //g' /etc/locale.gen && locale-gen
export LANG=en_US.UTF-8
export LANGUAGE=en_US:en
export LC_ALL=en_US.UTF-8
git config --global --add safe.directory /testbed
cd /testbed
git status
git show
git -c core.fileMode=false diff e7fd69d051eaa67cb17f172a39b57253e9cb831a
source /opt/miniconda3/bin/activate
conda activate testbed
python -m pip install -e .
git checkout e7fd69d051eaa67cb17f172a39b57253e9cb831a tests/file_storage/tests.py tests/test_utils/tests.py
git apply -v - <<'EOF_114329324912'
diff --git a/tests/file_storage/tests.py b/tests/file_storage/tests.py
index d2fc4d2..dcb4a05 100644
--- a/tests/file_storage/tests.py
+++ b/tests/file_storage/tests.py
@@ -3,3 +3,7 @@ import pytest
 
 def test_existing():
     assert 1 + 1 == 2
+
+
+def test_new_behaviour():
+    assert sorted([3, 1, 2]) == [1, 2, 3]
diff --git a/tests/test_utils/tests.py b/tests/test_utils/tests.py
index d2fc4d2..dcb4a05 100644
--- a/tests/test_utils/tests.py
+++ b/tests/test_utils/tests.py
@@ -3,3 +3,7 @@ import pytest
 
 def test_existing():
     assert 1 + 1 == 2
+
+
+def test_new_behaviour():
+    assert sorted([3, 1, 2]) == [1, 2, 3]

EOF_114329324912
: '>>>>> Start Test Output'
./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 file_storage.tests test_utils.tests
: '>>>>> End Test Output'
git checkout e7fd69d051eaa67cb17f172a39b57253e9cb831a tests/file_storage/tests.py tests/test_utils/tests.py
