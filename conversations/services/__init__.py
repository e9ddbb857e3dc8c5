"""Writes, one function per operation, grouped by subject:

- ``primitives``: bulk building blocks (attendees, system messages, rooms) and the tree lock;
- ``rooms``: conversations, participants, moderators and their breakout-specific rules;
- ``chat``: chat messages;
- ``demo``: the demo data of ``make serve`` (users, groups and app passwords live in ``accounts``).

Import from the submodule that holds a function; this package re-exports nothing.
"""
