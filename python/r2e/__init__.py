"""r2e: Gym-style environments over code repositories in sandboxes.

A drop-in for the R2E scaffold's environment::

    import r2e
    env = r2e.RepoEnv(r2e.EnvArgs(ds=row), backend="docker")
    obs = env.reset()
    obs, reward, done, info = env.step(r2e.Action.from_string(reply))
    reward = env.compute_reward()
    env.close()

Failures raise r2e.Error subclasses named after r2e's Status codes
(r2e.InvalidArgument, r2e.NotFound, r2e.Timeout, r2e.Unavailable, ...), each
with `code` and `message`. Environments still open when the interpreter exits
are closed then: their sandboxes are removed.
"""

import asyncio
import atexit
import functools

from . import _r2e
from ._r2e import (  # noqa: F401
    Action,
    AlreadyExists,
    Cancelled,
    EnvPool,
    EnvResult,
    Error,
    RolloutScheduler,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    Observation,
    ResourceExhausted,
    Timeout,
    Unavailable,
    Unimplemented,
)

__all__ = [
    "Action", "EnvArgs", "EnvPool", "EnvResult", "Error", "Observation", "RepoEnv", "RolloutScheduler",
    "AlreadyExists", "Cancelled", "FailedPrecondition", "Internal", "InvalidArgument",
    "NotFound", "ResourceExhausted", "Timeout", "Unavailable", "Unimplemented",
]


class EnvArgs:
    """The scaffold's EnvArgs: a dataset row (ds) for RepoEnv."""

    def __init__(self, ds):
        if not isinstance(ds, dict):
            raise TypeError("ds: a dataset row (dict), got " + type(ds).__name__)
        self.ds = ds

    def __repr__(self):
        return "EnvArgs(ds={instance_id: %r})" % self.ds.get("instance_id")


async def _in_thread(call, *args, **kw):
    # The call releases the GIL while it waits, so a worker thread of the
    # loop's executor runs it alongside the loop.
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(call, *args, **kw))


async def _areset(self):
    """reset() for asyncio: awaits it on the loop's executor."""
    return await _in_thread(self.reset)


async def _astep(self, action, timeout=None):
    """step() for asyncio: awaits it on the loop's executor."""
    return await _in_thread(self.step, action, timeout)


async def _acompute_reward(self):
    """compute_reward() for asyncio: awaits it on the loop's executor."""
    return await _in_thread(self.compute_reward)


async def _aclose(self):
    """close() for asyncio: awaits it on the loop's executor."""
    return await _in_thread(self.close)


# On the class itself, so that environments a RolloutScheduler hands out
# have them too.
RepoEnv = _r2e.RepoEnv
RepoEnv.areset = _areset
RepoEnv.astep = _astep
RepoEnv.acompute_reward = _acompute_reward
RepoEnv.aclose = _aclose

# Sandboxes must not outlive the interpreter: pools, environments and
# schedulers still open are closed while it can still run them.
atexit.register(_r2e._close_all)
