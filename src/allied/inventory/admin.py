from django.contrib import admin

from allied.core.admin import ReadOnlyAdmin
from allied.inventory.models import Bin, StockMove, Warehouse


class BinInline(admin.TabularInline):
    model = Bin
    extra = 1
    fields = ["code", "kind", "is_active"]


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "city", "is_active"]
    inlines = [BinInline]


@admin.register(StockMove)
class StockMoveAdmin(ReadOnlyAdmin):
    list_display = ["at", "product", "warehouse", "bin", "reason", "on_hand_delta", "reserved_delta", "actor_label"]
    list_filter = ["reason", "warehouse"]
    search_fields = ["product__sku", "reference_id"]
