"""The scheduler: runs calendar events' agents proactively (see :mod:`agenthub.scheduler.worker`)."""
