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
git -c core.fileMode=false diff 93e892bb645b16ebaf287beb5fe7f3ffe8d10408
source /opt/miniconda3/bin/activate
conda activate testbed
python setup.py install
git checkout 93e892bb645b16ebaf287beb5fe7f3ffe8d10408 tests/migrations/test_operations.py tests/templates/page.txt
git apply -v - <<'EOF_114329324912'
diff --git a/tests/migrations/fixtures/data.json b/tests/migrations/fixtures/data.json
new file mode 100644
index 0000000..fe51488
--- /dev/null
+++ b/tests/migrations/fixtures/data.json
@@ -0,0 +1 @@
+[]
diff --git a/tests/migrations/test_migrations_squashed_extra/0001_initial.py b/tests/migrations/test_migrations_squashed_extra/0001_initial.py
new file mode 100644
index 0000000..dcb4a05
--- /dev/null
+++ b/tests/migrations/test_migrations_squashed_extra/0001_initial.py
@@ -0,0 +1,9 @@
+import pytest
+
+
+def test_existing():
+    assert 1 + 1 == 2
+
+
+def test_new_behaviour():
+    assert sorted([3, 1, 2]) == [1, 2, 3]
diff --git a/tests/migrations/test_migrations_squashed_extra/__init__.py b/tests/migrations/test_migrations_squashed_extra/__init__.py
new file mode 100644
index 0000000..e69de29
diff --git a/tests/migrations/test_operations.py b/tests/migrations/test_operations.py
index d2fc4d2..dcb4a05 100644
--- a/tests/migrations/test_operations.py
+++ b/tests/migrations/test_operations.py
@@ -3,3 +3,7 @@ import pytest
 
 def test_existing():
     assert 1 + 1 == 2
+
+
+def test_new_behaviour():
+    assert sorted([3, 1, 2]) == [1, 2, 3]
diff --git a/tests/templates/page.txt b/tests/templates/page.txt
index 7898192..6178079 100644
--- a/tests/templates/page.txt
+++ b/tests/templates/page.txt
@@ -1 +1 @@
-a
+b

EOF_114329324912
: '>>>>> Start Test Output'
./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 migrations.test_migrations_squashed_extra.0001_initial migrations.test_migrations_squashed_extra.__init__ migrations.test_operations
: '>>>>> End Test Output'
git checkout 93e892bb645b16ebaf287beb5fe7f3ffe8d10408 tests/migrations/test_operations.py tests/templates/page.txt
