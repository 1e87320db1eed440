"""Use cases: one function per thing a person (or the scheduler) can do, one module per area.

Each takes an open unit of work (``domain.ports.UnitOfWork``) and, when time matters, a ``Clock``; checks who is
asking and what they may do (nothing from the caller is trusted: ids come from button data); applies the rules of
the pure modules in ``domain/``; and saves through repositories. Use cases never commit: the caller commits the
unit of work once, so a change and what it tells people land together.

    people        registering users, zone, language, becoming a mentor, the daily agenda switch
    profiles      a mentor's public profile: showing and editing it
    offerings     a mentor's offerings: create, edit, publish/pause/archive, duplicate, delete
    availability  weekly hours (the mentor's, or one offering's own)
    overrides     date exceptions (days off, other hours, vacations) and the free-time preview
    discovery     finding an offering: the filtered, sorted list and an offering's card
    booking       choosing a time, booking it, and moving a booking through the state machine
    inbox         the mentor's bookings: tabs, stats, the mentor's moves, the private note
    my_bookings   the mentee's bookings: tabs, a booking's card, cancelling
    aftercare     after a session: rating and feedback
    notifications what a change tells people (the outbox), and the scheduler's side: expiry, the agenda

The rules these call never ``await``; only modules in this package do (``tests/unit/test_layers.py``).
"""
