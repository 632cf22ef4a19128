# An image without Python, as many non-Python task images are: the R2E demo
# task with every python3 removed (its .venv links then lead nowhere). The
# tools must run on r2e-python, which AddCommands installs beside them.
ARG BASE=r2e-demo/textstats:latest
FROM ${BASE}
RUN rm -f /usr/bin/python3* /usr/bin/python /usr/local/bin/python3* \
 && ! command -v python3 && ! /testbed/.venv/bin/python3 -c pass 2>/dev/null
