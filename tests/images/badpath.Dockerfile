# An image whose PATH reaches nothing: the R2E demo task with PATH set to
# directories that do not exist. The sandbox must still start and run
# commands and tools (r2e's PATH comes first).
ARG BASE=r2e-demo/textstats:latest
FROM ${BASE}
ENV PATH=/nonexistent/bin:/also/missing \
    FOO="from the image"
