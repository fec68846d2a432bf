from allied.fulfillment.models import Manifest, PickList, Return


def pick_list_for_update(pick_list_id: int) -> PickList:
    return PickList.objects.select_for_update(of=("self",)).select_related("warehouse").get(pk=pick_list_id)


def manifest_for_update(manifest_id: int) -> Manifest:
    return Manifest.objects.select_for_update(of=("self",)).select_related("warehouse").get(pk=manifest_id)


def return_for_update(return_id: int) -> Return:
    return Return.objects.select_for_update(of=("self",)).select_related("order__warehouse").get(pk=return_id)
