"""puhui.core: money, rates, day counts, calendars and business dates, identifiers, errors.

The foundation every other package builds on. Pure: imports only the standard library and small
well-kept libraries (python-stdnum, chinesecalendar), never storage or web code.
"""
