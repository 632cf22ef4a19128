#!/bin/bash
set -uxo pipefail
cd /testbed
git config --global --add safe.directory /testbed
cd /testbed
git checkout f2671d877442d7553fa2d0998dbd1db93b58e72f spec/rubocop/cop/lint/out_of_range_regexp_ref_spec.rb
git apply --verbose --reject - <<'EOF_114329324912'
diff --git a/spec/rubocop/cop/lint/out_of_range_regexp_ref_spec.rb b/spec/rubocop/cop/lint/out_of_range_regexp_ref_spec.rb
index 822de96..14f30c4 100644
--- a/spec/rubocop/cop/lint/out_of_range_regexp_ref_spec.rb
+++ b/spec/rubocop/cop/lint/out_of_range_regexp_ref_spec.rb
@@ -1 +1 @@
-# a
+# b

EOF_114329324912
: '>>>>> Start Test Output'
bundle exec rspec spec/rubocop/cop/lint/out_of_range_regexp_ref_spec.rb --no-color --format json | sed -n '/^{/,$p' | \
  jq -r '.examples | group_by(.description) | .[] |
    if any(select(.status == "failed")) then
      (.[0] | "\(.description) - failed")
    else
      (.[0] | "\(.description) - \(.status)")
    end'
SWEBENCH_TEST_EXIT_CODE=$?
: '>>>>> End Test Output'
echo ">>>>> Test Exit Code: $SWEBENCH_TEST_EXIT_CODE"
git checkout f2671d877442d7553fa2d0998dbd1db93b58e72f spec/rubocop/cop/lint/out_of_range_regexp_ref_spec.rb
