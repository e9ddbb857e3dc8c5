"""Breakout-room writes, one function per operation:

- ``lifecycle``: configure, remove, start, stop, broadcast, reorganize, assistance, switch;
- ``guards``: the lifecycle's state checks and limits, shared with the input serializers;
- ``maintenance``: operator clean-up (orphan rooms and the like).

Import from the submodule; this package re-exports nothing.
"""
