"""The brute-force guard: one set of failure counters per client address, shared by all workers.

See ``project.bruteforce.guard``. This is a Django app only for its one table (the counters
when there is no Redis); it imports no app of the project.
"""
