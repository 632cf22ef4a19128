# An image that runs as a user other than root, as some task images do: the
# R2E demo task with a user `agent` (uid 1234, group `agent` 1234, also in
# `users` 100) that owns /testbed, and `USER agent`. The local runtime must
# run its sandbox's processes as that user, as Docker does.
ARG BASE=r2e-demo/textstats:latest
FROM ${BASE}
RUN groupadd -g 1234 agent \
 && useradd -u 1234 -g agent -G users -m -d /home/agent -s /bin/bash agent \
 && chown -R agent:agent /testbed
USER agent
