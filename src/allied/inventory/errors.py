from allied.core.errors import Conflict


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    title = "Not enough stock"
