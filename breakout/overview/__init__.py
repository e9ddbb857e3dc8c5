"""The operators' breakout overview: every parent with breakout rooms on one (paginated) page,
rooms asking for assistance first, with start/stop/remove buttons.

- ``texts``: what the services' error keys mean to an operator;
- ``actions``: start, stop, remove and assistance reset of selected conversations, through the
  lifecycle services (also used by the admin's changelist actions);
- ``selectors``: the page's rows, in a fixed number of queries;
- ``views``: the page and its buttons, mounted by ``breakout/admin.py``.
"""
