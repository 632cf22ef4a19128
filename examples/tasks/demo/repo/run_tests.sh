#!/bin/bash
cd /testbed
python3 -m pytest -rA r2e_tests
