"""Writes of the last mile, one module per concern: tracking (the one owner of a stop's status),
tasks, the network, planning and the rider's actions."""
